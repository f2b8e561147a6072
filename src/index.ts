/**
 * numforge as a library: `import { loadFormat, encode, decode, … } from "numforge"`.
 *
 *   const e4m3 = await loadFormat("e4m3");                  // or a path to a spec file
 *   encode(e4m3, [0.1, 448, 1000, -0.0146]).codes           // [29, 126, 126, 135]
 *   const kernels = await compileKernels(e4m3, { target: "wasm" });
 *   kernels.encode(new Float32Array([0.1, 448])).codes      // Uint8Array [29, 126]
 *
 * Bad input rejects with a NumforgeError whose message is the line the CLI prints.
 */
export { NumforgeError } from "./lib/errors.ts";
export {
  loadFormat,
  encode,
  decode,
  fakeQuantize,
  type Format,
  type Meta,
  type State,
  type RoundingOption,
  type EncodeOptions,
  type DecodeOptions,
  type Encoded,
  type FakeQuantized,
} from "./lib/formats.ts";
export { compileKernels, writePackage, type Kernels, type GpuKernelsModule, type TargetName, type WritePackageOptions, type WrittenPackage } from "./lib/kernels.ts";
export { compare, type CompareOptions, type ResultsFile } from "./lib/compare.ts";
export { positArithmetic, quireGemm, compilePositKernels, type PositKernels, type PositOp, type QuireGemmShape } from "./lib/posit.ts";
