/**
 * Facts about every built-in format, written down from the standards that define them (OCP FP8
 * and MX, IEEE 754, the posit standard, the papers). The guard test fails when a file in
 * formats/ has no entry here, so every new format arrives with its expected facts.
 */
export interface FormatFacts {
  readonly bits: number;
  readonly maxFinite: number;
  readonly minSubnormal: number;
  readonly hasNaN: boolean;
  readonly hasInfinity: boolean;
  readonly scaling: "none" | "amax" | "block" | "shift-squeeze" | "shift-groups";
}

const fp8 = { bits: 8, scaling: "none" } as const;
export const FORMAT_FACTS: Readonly<Record<string, FormatFacts>> = {
  fp32: { bits: 32, maxFinite: 3.4028234663852886e38, minSubnormal: 2 ** -149, hasNaN: true, hasInfinity: true, scaling: "none" },
  fp16: { bits: 16, maxFinite: 65504, minSubnormal: 2 ** -24, hasNaN: true, hasInfinity: true, scaling: "none" },
  bf16: { bits: 16, maxFinite: 3.3895313892515355e38, minSubnormal: 2 ** -133, hasNaN: true, hasInfinity: true, scaling: "none" },
  e5m2: { ...fp8, maxFinite: 57344, minSubnormal: 2 ** -16, hasNaN: true, hasInfinity: true },
  e4m3: { ...fp8, maxFinite: 448, minSubnormal: 2 ** -9, hasNaN: true, hasInfinity: false },
  e4m3fnuz: { ...fp8, maxFinite: 240, minSubnormal: 2 ** -10, hasNaN: true, hasInfinity: false },
  e5m2fnuz: { ...fp8, maxFinite: 57344, minSubnormal: 2 ** -17, hasNaN: true, hasInfinity: false },
  e3m4: { ...fp8, maxFinite: 15.5, minSubnormal: 2 ** -6, hasNaN: true, hasInfinity: true },
  e2m3: { bits: 6, maxFinite: 7.5, minSubnormal: 0.125, hasNaN: false, hasInfinity: false, scaling: "none" },
  e3m2: { bits: 6, maxFinite: 28, minSubnormal: 0.0625, hasNaN: false, hasInfinity: false, scaling: "none" },
  e2m1: { bits: 4, maxFinite: 6, minSubnormal: 0.5, hasNaN: false, hasInfinity: false, scaling: "none" },
  e8m0: { ...fp8, maxFinite: 2 ** 127, minSubnormal: 2 ** -127, hasNaN: true, hasInfinity: false },
  posit8: { ...fp8, maxFinite: 64, minSubnormal: 2 ** -6, hasNaN: true, hasInfinity: false },
  posit8es2: { ...fp8, maxFinite: 2 ** 24, minSubnormal: 2 ** -24, hasNaN: true, hasInfinity: false },
  posit16: { bits: 16, maxFinite: 2 ** 28, minSubnormal: 2 ** -28, hasNaN: true, hasInfinity: false, scaling: "none" },
  posit16es2: { bits: 16, maxFinite: 2 ** 56, minSubnormal: 2 ** -56, hasNaN: true, hasInfinity: false, scaling: "none" },
  posit32es2: { bits: 32, maxFinite: 2 ** 120, minSubnormal: 2 ** -120, hasNaN: true, hasInfinity: false, scaling: "none" },
  int8: { ...fp8, maxFinite: 127, minSubnormal: 1, hasNaN: false, hasInfinity: false },
  int4: { bits: 4, maxFinite: 7, minSubnormal: 1, hasNaN: false, hasInfinity: false, scaling: "none" },
  s2fp8: { bits: 8, maxFinite: 57344, minSubnormal: 2 ** -16, hasNaN: true, hasInfinity: true, scaling: "shift-squeeze" },
  shiftquant4: { bits: 4, maxFinite: 7, minSubnormal: 1, hasNaN: false, hasInfinity: false, scaling: "shift-groups" },
  shiftquant6: { bits: 6, maxFinite: 31, minSubnormal: 1, hasNaN: false, hasInfinity: false, scaling: "shift-groups" },
  shiftquant8: { bits: 8, maxFinite: 127, minSubnormal: 1, hasNaN: false, hasInfinity: false, scaling: "shift-groups" },
  mxfp8: { bits: 8, maxFinite: 448, minSubnormal: 2 ** -9, hasNaN: true, hasInfinity: false, scaling: "block" },
  mxfp6: { bits: 6, maxFinite: 7.5, minSubnormal: 0.125, hasNaN: false, hasInfinity: false, scaling: "block" },
  mxfp4: { bits: 4, maxFinite: 6, minSubnormal: 0.5, hasNaN: false, hasInfinity: false, scaling: "block" },
  mxint8: { bits: 8, maxFinite: 127 / 64, minSubnormal: 1 / 64, hasNaN: false, hasInfinity: false, scaling: "block" },
  // NVIDIA NVFP4: E2M1 elements (max 6) under E4M3 block scales and an fp32 tensor scale.
  nvfp4: { bits: 4, maxFinite: 6, minSubnormal: 0.5, hasNaN: false, hasInfinity: false, scaling: "block" },
  // DeepSeek-V3 (arXiv 2412.19437): E4M3 (max 448) with fp32 tile scales.
  "fp8-block1x128": { bits: 8, maxFinite: 448, minSubnormal: 2 ** -9, hasNaN: true, hasInfinity: false, scaling: "block" },
  "fp8-block1x128-pow2": { bits: 8, maxFinite: 448, minSubnormal: 2 ** -9, hasNaN: true, hasInfinity: false, scaling: "block" },
  // QLoRA NF4 (arXiv 2305.14314, bitsandbytes' table): 16 values in [−1, 1], smallest positive 0.0796.
  nf4: { bits: 4, maxFinite: 1, minSubnormal: 0.07958029955625534, hasNaN: false, hasInfinity: false, scaling: "none" },
  "nf4-block64": { bits: 4, maxFinite: 1, minSubnormal: 0.07958029955625534, hasNaN: false, hasInfinity: false, scaling: "block" },
  // Offset-binary 4-bit: codes 0..15 stand for −8..7.
  "uint4-zp8": { bits: 4, maxFinite: 7, minSubnormal: 1, hasNaN: false, hasInfinity: false, scaling: "none" },
  "fp8-block128x128": { bits: 8, maxFinite: 448, minSubnormal: 2 ** -9, hasNaN: true, hasInfinity: false, scaling: "block" },
};
