/**
 * One generated format checked on every target against the semantics, on every element: encode
 * (codes), decode (float32 bits) and fake-quantize (float32 bits) of each target's plans. Unscaled
 * formats are held to the element semantics bit for bit, NaN signs included (decodeF32Bits);
 * scaled ones to the tensor semantics (quantize / dequantize / fakeQuantize), any NaN for a NaN;
 * a per-channel format's fakeQuantizeColumns to fakeQuantize of the transposed tensor.
 * A failure is one line: target, op, how many elements differ, and the first — its input bits,
 * expected and got — with the spec as JSON, so it can be pasted into a regression test.
 */
import { buffersFromMeta } from "../../src/codegen/meta.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { f32Bits } from "../../src/dsl/semantics/bits.ts";
import type { CodeArray } from "../../src/dsl/semantics/codes.ts";
import { decodeF32Bits } from "../../src/dsl/semantics/scalar.ts";
import { dequantize, fakeQuantize, quantize, type ScaleMeta } from "../../src/dsl/semantics/tensor.ts";
import type { BufferArray } from "../../src/package-runtime/run-plan.js";
import { columnChannels, gatherChannels, scatterChannels } from "../../src/runtime/precision.ts";
import { decodeCodes, encodeInputs, type InputBudget } from "./inputs.ts";
import type { WrittenSpec } from "./resolve-spec.ts";
import { TARGETS, type CompiledTargets } from "./targets.ts";

/** Any NaN's bits, for comparisons where only NaN-ness is defined. */
const SOME_NAN = 0x7fc00000;
const hex = (bits: number) => `0x${(bits >>> 0).toString(16).padStart(8, "0")}`;
const f32BitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** What the plans must give, from the semantics. */
interface Expected {
  readonly codes: CodeArray;
  readonly meta: ScaleMeta;
  /** float32 bits of decode(codes). */
  readonly decoded: (codes: CodeArray, meta: ScaleMeta) => Uint32Array;
  /** float32 bits of decode(encode(x)). */
  readonly fake: Uint32Array;
  /** Whether NaN bits are compared exactly, or only as being NaN. */
  readonly exactNaN: boolean;
}

/** `table`: decodeF32Bits of every code of a ≤ 16-bit format (null for wider ones), so no code is decoded twice. */
function expectations(format: ResolvedFormat, x: Float32Array, seed: number, table: Uint32Array | null): Expected {
  const { codes, meta } = quantize(format, x, { seed });
  if (format.scaling.kind === "none") {
    const decoded = (c: CodeArray) => Uint32Array.from(c, (code) => (table === null ? decodeF32Bits(format, code) : table[code]));
    return { codes, meta, decoded, fake: decoded(codes), exactNaN: true };
  }
  return { codes, meta, decoded: (c, m) => canonicalBits(dequantize(format, c, m)), fake: canonicalBits(fakeQuantize(format, x, { seed }).values), exactNaN: false };
}

/** float32 bits of the values, every NaN as SOME_NAN (where only NaN-ness is defined). */
function canonicalBits(values: Float32Array): Uint32Array {
  return Uint32Array.from(values, (v) => (Number.isNaN(v) ? SOME_NAN : f32Bits(v)));
}

/** The first of the elements where `got` differs from `want`, and how many do, or null when none. */
function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, input: (i: number) => string, show: (v: number) => string): string | null {
  if (got.length !== want.length) return `${got.length} results, want ${want.length}`;
  let first = -1;
  let count = 0;
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i]) {
      if (first < 0) first = i;
      count++;
    }
  return first < 0 ? null : `${count} of ${want.length} differ; first: ${input(first)} → ${show(got[first])}, want ${show(want[first])}`;
}

/** Checks every op of one format on every target; resolves to the failures (empty when all agree). */
export async function checkFormat(spec: WrittenSpec, format: ResolvedFormat, compiled: CompiledTargets, seed: number, budget: InputBudget): Promise<string[]> {
  const codes = decodeCodes(format, seed, budget);
  const table = format.bits <= 16 ? Uint32Array.from(codes, (code) => decodeF32Bits(format, code)) : null;
  const x = encodeInputs(format, seed, budget, table);
  const xBits = f32BitsOf(x);
  const want = expectations(format, x, seed, table);
  const call = { seed };
  const asBits = (values: BufferArray) => {
    const bits = f32BitsOf(values as Float32Array);
    return want.exactNaN ? bits : Uint32Array.from(values, (v, i) => (Number.isNaN(v) ? SOME_NAN : bits[i]));
  };
  const inputX = (i: number) => `x[${i}] = ${hex(xBits[i])} (${x[i]})`;
  const inputCode = (i: number) => `code ${codes[i]}`;
  // The layouts beyond one row, expected once for every target: blocks down the columns, and a per-channel format's channels as columns.
  const blocksDown = blockAxisRows(format, x.length).map((rows) => {
    const matrix = x.subarray(0, rows * Math.floor(x.length / rows));
    return { rows, matrix, fake: canonicalBits(fakeQuantize(format, matrix, { seed, channels: rows, blockAxis: 0 }).values) };
  });
  const columnCases = compiled.plans.fakeQuantizeColumns === undefined ? [] : COLUMN_LANES.map((lanes) => ({ lanes, ...columnExpectation(format, x, lanes, seed) }));
  const failures: string[] = [];
  const report = (target: string, op: string, mismatch: string | null) => {
    if (mismatch !== null) failures.push(`${target} ${op}: ${mismatch}; spec ${JSON.stringify(spec)}`);
  };
  for (const target of TARGETS) {
    const run = compiled.run[target];
    const encoded = await run(compiled.plans.encode, { x }, call);
    report(target, "encode", firstMismatch(encoded.outputs.codes, want.codes, inputX, String));
    const decodeMeta = format.scaling.kind === "none" ? { kind: "none" as const } : want.meta;
    const decodeInput = format.scaling.kind === "none" ? codes : want.codes;
    const decoded = await run(compiled.plans.decode, { codes: decodeInput, ...buffersFromMeta(format, decodeMeta) }, call);
    report(target, "decode", firstMismatch(asBits(decoded.outputs.values), want.decoded(decodeInput, decodeMeta), format.scaling.kind === "none" ? inputCode : inputX, hex));
    const faked = await run(compiled.plans.fakeQuantize, { x }, call);
    report(target, "fakeQuantize", firstMismatch(asBits(faked.outputs.values), want.fake, inputX, hex));
    for (const { rows, matrix, fake } of blocksDown) {
      const got = await run(compiled.plans.fakeQuantize, { x: matrix }, { seed, channels: rows, blockAxis: 0 });
      report(target, `fakeQuantize (${rows} rows, blocks down the columns)`, firstMismatch(asBits(got.outputs.values), fake, inputX, hex));
    }
    for (const { lanes, matrix, fake } of columnCases) {
      const got = await run(compiled.plans.fakeQuantizeColumns!, { x: matrix }, { seed, channels: lanes });
      report(target, `fakeQuantizeColumns (${lanes} lanes)`, firstMismatch(asBits(got.outputs.values), fake, inputX, hex));
    }
  }
  return failures;
}

/**
 * Row counts a 1-D block format is checked with on block axis 0 (blocks down the columns): last
 * bands of every height the [B, 1] statistics kernels split at (8, 16, 32, 64, B, and one more), as far as
 * n elements allow a column.
 */
function blockAxisRows(format: ResolvedFormat, n: number): number[] {
  const scaling = format.scaling;
  if (scaling.kind !== "block" || !("block" in scaling.granularity)) return [];
  const b = scaling.granularity.block;
  return [...new Set([3, 8, 9, 16, 17, 32, 33, 64, 65, b, b + 1, 2 * b + 8, 2 * b + 64])].filter((rows) => rows <= n);
}

/** Lane counts a per-channel format's fakeQuantizeColumns is checked with: one column, and several over rows of unequal magnitudes. */
const COLUMN_LANES = [1, 7];

/**
 * A prefix of x as a rows × lanes matrix, and what fakeQuantizeColumns must give on it: the
 * semantics' fakeQuantize of its transpose (a channel per lane), transposed back, NaN as any NaN.
 */
function columnExpectation(format: ResolvedFormat, x: Float32Array, lanes: number, seed: number): { matrix: Float32Array; fake: Uint32Array } {
  const layout = columnChannels(Math.floor(x.length / lanes), lanes);
  const matrix = x.slice(0, layout.outer * lanes);
  const values = fakeQuantize(format, gatherChannels(matrix, layout, "fakeQuantizeColumns"), { seed, channels: lanes }).values;
  const back = new Float32Array(matrix.length);
  scatterChannels(values, layout, back);
  return { matrix, fake: canonicalBits(back) };
}
