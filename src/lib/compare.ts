/**
 * A format comparison from a program: `numforge compare` itself, run in this process on in-memory
 * streams, so the options mean, default and are refused exactly as the command's flags are, and
 * the folder gets the same results.json, report.md, report.html and checkpoints (a second call with
 * the same options resumes). Resolves to the results.json object.
 */
import type { ResultsFile } from "../runtime/compare/results.ts";
import { InputError } from "../dsl/errors.ts";
import { NumforgeError } from "./errors.ts";

export type { ResultsFile } from "../runtime/compare/results.ts";

export interface CompareOptions {
  /** Recipes (names in recipes/ or recipe files) or formats (names or spec files) to compare; default the shipped comparison. */
  readonly formats?: readonly string[];
  /** "resnet" (default), "transformer", "ncf" or "all". */
  readonly model?: string;
  readonly epochs?: number;
  /** Runs per recipe, seeds 0..seeds−1 (default 1). */
  readonly seeds?: number;
  /** Output folder (default runs/compare). */
  readonly out?: string;
  /** "wasm", "js", "webgpu" or "reference" (default wasm where SIMD validates). */
  readonly backend?: string;
  /** The model's data instead of the embedded default (MNIST IDX folder, MovieLens ratings file). */
  readonly data?: string;
  readonly scale?: number;
  readonly batchSize?: number;
  readonly stepsPerEpoch?: number;
  readonly width?: number;
  readonly augmentShift?: number;
  /** "sgd" or "adam". */
  readonly optimizer?: string;
  /** Peak learning rate. */
  readonly lr?: number;
  /** Runs trained at once on worker threads (default 1). */
  readonly jobs?: number;
  /** Progress as the CLI prints it: one line per run start, tenth of a run, epoch and run end. */
  readonly onProgress?: (line: string) => void;
}

/** Trains each model once per (recipe, seed) and resolves to the results; bad options reject with the CLI's NumforgeError message. */
export async function compare(options: CompareOptions = {}): Promise<ResultsFile> {
  const { runCli } = await import("../cli/run.ts");
  const argv = ["compare", ...flagsOf(options), "--json"];
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    readStdin: async () => "",
    stdinIsTerminal: true,
    stdout: (text) => void (stdout += text),
    stderr: (text) => {
      stderr += text;
      for (const line of text.split("\n")) if (line.trim() !== "") options.onProgress?.(line);
    },
  });
  const last = stderr.trimEnd().split("\n").pop() ?? "";
  if (code === 2) throw new NumforgeError(new InputError({ where: "compare", message: last }), last);
  if (code !== 0) throw new Error(last);
  return JSON.parse(stdout) as ResultsFile;
}

const FLAGS: Readonly<Record<Exclude<keyof CompareOptions, "onProgress">, string>> = {
  formats: "formats",
  model: "model",
  epochs: "epochs",
  seeds: "seeds",
  out: "out",
  backend: "backend",
  data: "data",
  scale: "scale",
  batchSize: "batch-size",
  stepsPerEpoch: "steps-per-epoch",
  width: "width",
  augmentShift: "augment-shift",
  optimizer: "optimizer",
  lr: "lr",
  jobs: "jobs",
};

/** The options as the command line `numforge compare` takes. */
function flagsOf(options: CompareOptions): string[] {
  const argv: string[] = [];
  for (const [key, flag] of Object.entries(FLAGS)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    argv.push(`--${flag}=${Array.isArray(value) ? value.join(",") : String(value)}`);
  }
  return argv;
}
