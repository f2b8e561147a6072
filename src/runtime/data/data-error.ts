/**
 * Data that cannot be trained or evaluated on, said the way the CLI prints it: `FILE:LINE: DETAIL`
 * (or `FILE: DETAIL`), where FILE is the data's source (a file or folder, or the generator) and
 * LINE the line of that file the problem starts at, when there is one.
 */
export class DataError extends Error {
  override readonly name: string = "DataError";
  constructor(readonly file: string, readonly line: number | null, readonly detail: string) {
    super(`${line === null ? file : `${file}:${line}`}: ${detail}`);
  }
}
