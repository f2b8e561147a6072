/** The on-disk copy of the format schema, for editors; generated, never edited by hand. */
import { fileURLToPath } from "node:url";

export const SCHEMA_FILE = fileURLToPath(new URL("../../formats/format.schema.json", import.meta.url));

/** The exact text `npm run gen:schema` writes. */
export function schemaFileText(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
