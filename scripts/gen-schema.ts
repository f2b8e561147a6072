/** Writes formats/format.schema.json from the schema in src/dsl/spec-schema.ts (the source of truth). */
import { writeFileSync } from "node:fs";
import { formatSpecSchema } from "../src/dsl/spec-schema.ts";
import { schemaFileText, SCHEMA_FILE } from "../src/dsl/schema-file.ts";

writeFileSync(SCHEMA_FILE, schemaFileText(formatSpecSchema));
console.log(`wrote ${SCHEMA_FILE}`);
