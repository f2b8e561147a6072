/**
 * Wasm element kernels of every built-in int format (nearest and stochastic) and of the posit
 * formats whose lowering exists (see element-check.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { builtin, builtinNames } from "../../support/formats.ts";
import { checkWasmElementKernels, lowers } from "./element-check.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const INT_FORMATS = builtinNames.filter((name) => builtin(name).element.kind === "int");
const POSIT_FORMATS = builtinNames.filter((name) => builtin(name).element.kind === "posit" && lowers(builtin(name)));
it("covers the int formats", () => expect(INT_FORMATS.length).toBeGreaterThan(3));
for (const name of INT_FORMATS) {
  const format = builtin(name);
  describe(name, () => {
    checkWasmElementKernels(format, name, () => assembler);
    checkWasmElementKernels({ ...format, rounding: { mode: "stochastic", bits: 11 } }, `${name} (stochastic, 11 bits)`, () => assembler);
  });
}
for (const name of POSIT_FORMATS) checkWasmElementKernels(builtin(name), name, () => assembler);
