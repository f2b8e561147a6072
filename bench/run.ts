/**
 * `npm run bench`: composes the benchmark sections and prints one table each.
 * Optional arguments name the sections to run (gemm, elementwise); default all.
 */
import { elementwiseSection } from "./elementwise-js.ts";
import { gemmSection } from "./gemm-js.ts";
import { machineLine } from "./measure.ts";
import { renderTable, type Table } from "./table.ts";

const SECTIONS: Readonly<Record<string, () => Table>> = {
  gemm: () => gemmSection(),
  elementwise: () => elementwiseSection(),
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in SECTIONS));
if (unknown.length > 0) {
  console.error(`unknown bench section ${unknown.join(", ")}; sections: ${Object.keys(SECTIONS).join(", ")}`);
  process.exit(2);
}

console.log(machineLine());
const started = performance.now();
for (const name of requested.length > 0 ? requested : Object.keys(SECTIONS)) {
  console.log(`\n${renderTable(SECTIONS[name]())}`);
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s (${machineLine()})`);
