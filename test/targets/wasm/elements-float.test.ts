/** Wasm element kernels of every built-in float format, nearest and stochastic (see element-check.ts). */
import { beforeAll, describe, expect, it } from "vitest";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { builtin, builtinNames } from "../../support/formats.ts";
import { checkWasmElementKernels } from "./element-check.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const FLOAT_FORMATS = builtinNames.filter((name) => builtin(name).element.kind === "float");
it("covers the float formats", () => expect(FLOAT_FORMATS.length).toBeGreaterThan(10));
for (const name of FLOAT_FORMATS) {
  const format = builtin(name);
  describe(name, () => {
    checkWasmElementKernels(format, name, () => assembler);
    checkWasmElementKernels({ ...format, rounding: { mode: "stochastic", bits: 11 } }, `${name} (stochastic, 11 bits)`, () => assembler);
  });
}
