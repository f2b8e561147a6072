/**
 * onnxruntime-web (WebAssembly execution provider, one thread, no proxy worker), the peer a user
 * would pick to run ONNX graphs in JS: single-node models built in memory (./onnx-proto.ts),
 * one session per model, timed over session.run.
 *
 * Loading offline in Node: `import "onnxruntime-web"` resolves (exports condition "node") to
 * dist/ort.node.min.mjs, which loads dist/ort-wasm-simd-threaded.{mjs,wasm}; env.wasm.wasmPaths
 * is set to that dist folder as a file:// URL (the .mjs is loaded with import(), which wants a
 * URL). numThreads = 1 keeps the pthread pool empty; proxy = false keeps everything on the
 * calling thread, so CPU time of this process is the work done.
 *
 * What a timed run includes: session.run copies every input from its JS typed array into the
 * wasm heap and every output back into a new JS typed array (the wasm EP has no zero-copy
 * binding), then ORT's per-run bookkeeping. At 256³ that is noise next to the GEMM; for
 * element-wise ops of 2^20 elements it is most of the run, so those figures come with an Identity
 * f32 → f32 model of the same length (4N bytes in, a 4N-byte copy, 4N bytes out) as a reference.
 *
 * Float8: the wasm binary has the float8 Cast kernels (a float32 → FLOAT8E4M3FN → float32 round
 * trip runs), but the JS API has no float8 tensor type: creating a session whose graph output is
 * FLOAT8E4M3FN fails with "unsupported data type: 17" while reading the output's metadata, and
 * BitCast (opset 26, present in 1.30) has no float8 kernel, so the codes cannot leave the graph.
 * castFloat8E4M3OrFloat16 says so and measures float32 → FLOAT16 instead, labelled as such.
 */
import * as ort from "onnxruntime-web";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { MeasureOptions } from "../measure.ts";
import { checkMatmulF32, E4M3FN_VALUES, e4m3fnCode, float16Bits, hex, measureAsync, roundHalfEven, type PeerFigure } from "./common.ts";
import { ElemType, encodeModel, type Initializer, type ModelSpec } from "./onnx-proto.ts";

let configured: string | undefined;

/** Points onnxruntime-web at its wasm files in node_modules, one thread, no proxy (once). */
export function initOrt(): string {
  if (configured === undefined) {
    const dist = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
    ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    configured = ort.env.versions.web ?? "unknown";
  }
  return configured;
}

async function session(spec: ModelSpec): Promise<ort.InferenceSession> {
  initOrt();
  return ort.InferenceSession.create(encodeModel(spec), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
}

type Feeds = Record<string, ort.Tensor>;

/** A no-argument run of `s` on fixed feeds, returning its single output. */
function runner(s: ort.InferenceSession, feeds: Feeds): () => Promise<ort.Tensor> {
  const out = s.outputNames[0];
  return async () => (await s.run(feeds))[out];
}

const bytesOf = (x: ArrayBufferView): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

function label(op: string): string {
  return `onnxruntime-web ${initOrt()} ${op} (wasm EP, 1 thread)`;
}

/** A verified single-node session pair (B a graph input / B an initializer), ready to be timed. */
export interface PreparedSession {
  readonly label: string;
  readonly check: string;
  /** session.run with B a graph input (MLAS packs it inside each run, as any GEMM call does). */
  readonly input: () => Promise<unknown>;
  /** session.run with B an initializer, packed once at session creation (the weights case). */
  readonly prepacked: () => Promise<unknown>;
  readonly notes: readonly string[];
  release(): Promise<void>;
}

/**
 * ONNX MatMul, A (m×k) · B (k×n) row-major f32, checked once (both sessions) against a float64
 * naive product. A timed run is session.run: A (and B) copied into the wasm heap, C copied out.
 */
export async function prepareMatmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Promise<PreparedSession> {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`ORT MatMul: A has ${a.length} elements, B ${b.length}; expected ${m * k} and ${k * n}`);
  const io = {
    inputs: [{ name: "a", elemType: ElemType.FLOAT, shape: [m, k] }],
    outputs: [{ name: "c", elemType: ElemType.FLOAT, shape: [m, n] }],
    nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
  } as const;
  const bInput = { name: "b", elemType: ElemType.FLOAT, shape: [k, n] } as const;
  const bConst: Initializer = { name: "b", elemType: ElemType.FLOAT, dims: [k, n], raw: bytesOf(b) };
  const sIn = await session({ ...io, inputs: [...io.inputs, bInput] });
  const sConst = await session({ ...io, initializers: [bConst] });
  const ta = new ort.Tensor("float32", a, [m, k]);
  const tb = new ort.Tensor("float32", b, [k, n]);
  const input = runner(sIn, { a: ta, b: tb });
  const prepacked = runner(sConst, { a: ta });
  const what = `MatMul f32 ${m}×${n}×${k}`;
  const check = checkMatmulF32(what, (await input()).data as Float32Array, a, b, m, n, k);
  checkMatmulF32(`${what} (B prepacked)`, (await prepacked()).data as Float32Array, a, b, m, n, k);
  return {
    label: label("MatMul f32"),
    check,
    input,
    prepacked,
    notes: ["timed: session.run (A, B copied into the wasm heap, C copied out); 'B prepacked': B an initializer, packed at session creation"],
    release: async () => {
      await sIn.release();
      await sConst.release();
    },
  };
}

/**
 * GFLOP/s (2·m·n·k per run) of ONNX MatMul (see prepareMatmul), the figure with B a graph input;
 * variant "B prepacked": B stored as an initializer, which ORT packs once at session creation
 * (the weights case; compare with tfjs-wasm, which caches packed B the same way).
 */
export async function matmulGflops(a: Float32Array, b: Float32Array, m: number, n: number, k: number, options: MeasureOptions = {}): Promise<PeerFigure> {
  const prepared = await prepareMatmul(a, b, m, n, k);
  try {
    const t = await measureAsync([{ name: "input", run: prepared.input }, { name: "const", run: prepared.prepacked }], options);
    const gflops = (key: string) => (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9;
    return {
      label: label(`MatMul f32 ${m}×${n}×${k}`),
      value: gflops("input"),
      unit: "GFLOP/s",
      seconds: t.get("input") ?? Number.NaN,
      check: prepared.check,
      variants: { "B prepacked": gflops("const") },
      notes: prepared.notes,
    };
  } finally {
    await prepared.release();
  }
}

/**
 * ONNX MatMulInteger with A uint8 (m×k) · B int8 (k×n) → int32, no zero points (the u8×s8
 * combination is MLAS's QGEMM fast path), checked once, exactly, against a naive int32 product.
 */
export async function prepareMatmulInteger(a: Uint8Array, b: Int8Array, m: number, n: number, k: number): Promise<PreparedSession> {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`ORT MatMulInteger: A has ${a.length} elements, B ${b.length}; expected ${m * k} and ${k * n}`);
  const io = {
    inputs: [{ name: "a", elemType: ElemType.UINT8, shape: [m, k] }],
    outputs: [{ name: "y", elemType: ElemType.INT32, shape: [m, n] }],
    nodes: [{ opType: "MatMulInteger", inputs: ["a", "b"], outputs: ["y"] }],
  } as const;
  const bInput = { name: "b", elemType: ElemType.INT8, shape: [k, n] } as const;
  const bConst: Initializer = { name: "b", elemType: ElemType.INT8, dims: [k, n], raw: bytesOf(b) };
  const sIn = await session({ ...io, inputs: [...io.inputs, bInput] });
  const sConst = await session({ ...io, initializers: [bConst] });
  const ta = new ort.Tensor("uint8", a, [m, k]);
  const tb = new ort.Tensor("int8", b, [k, n]);
  const input = runner(sIn, { a: ta, b: tb });
  const prepacked = runner(sConst, { a: ta });
  const what = `MatMulInteger u8×s8→i32 ${m}×${n}×${k}`;
  const expected = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < n; j++) expected[i * n + j] += aip * b[p * n + j];
    }
  }
  for (const [name, run] of [["B input", input], ["B prepacked", prepacked]] as const) {
    const got = (await run()).data as Int32Array;
    const bad = expected.findIndex((v, i) => got[i] !== v);
    if (bad >= 0) throw new Error(`${what} (${name}): element ${bad} is ${got[bad]}, expected ${expected[bad]}`);
  }
  return {
    label: label("MatMulInteger u8×s8→i32"),
    check: `all ${m * n} int32 results equal the naive product (B input and B prepacked)`,
    input,
    prepacked,
    notes: ["timed: session.run (inputs copied in, int32 C copied out); 'B prepacked': B an initializer"],
    release: async () => {
      await sIn.release();
      await sConst.release();
    },
  };
}

/**
 * GOP/s (2·m·n·k per run) of ONNX MatMulInteger (see prepareMatmulInteger), the figure with B a
 * graph input; variant "B prepacked": B an initializer (packed at session creation).
 */
export async function matmulIntegerGops(a: Uint8Array, b: Int8Array, m: number, n: number, k: number, options: MeasureOptions = {}): Promise<PeerFigure> {
  const prepared = await prepareMatmulInteger(a, b, m, n, k);
  try {
    const t = await measureAsync([{ name: "input", run: prepared.input }, { name: "const", run: prepared.prepacked }], options);
    const gops = (key: string) => (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9;
    return {
      label: label(`MatMulInteger u8×s8→i32 ${m}×${n}×${k}`),
      value: gops("input"),
      unit: "GOP/s",
      seconds: t.get("input") ?? Number.NaN,
      check: prepared.check,
      variants: { "B prepacked": gops("const") },
      notes: prepared.notes,
    };
  } finally {
    await prepared.release();
  }
}

/**
 * Times `spec` on x next to an Identity f32 → f32 model of the same length: the cost of a run
 * that only moves data (4N bytes in, a 4N-byte copy, 4N bytes out). It is a reference, not a
 * lower bound: an op with a 1- or 2-byte output copies less out than Identity does.
 */
async function elementwise(
  what: string,
  spec: ModelSpec,
  x: Float32Array,
  verify: (out: ort.Tensor, run: (input: Float32Array) => Promise<ort.Tensor>) => Promise<string>,
  options: MeasureOptions,
  notes: readonly string[] = [],
): Promise<PeerFigure> {
  const shape = [x.length];
  const s = await session(spec);
  const id = await session({
    nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"] }],
    inputs: [{ name: "x", elemType: ElemType.FLOAT, shape }],
    outputs: [{ name: "y", elemType: ElemType.FLOAT, shape }],
  });
  try {
    const run = runner(s, { x: new ort.Tensor("float32", x, shape) });
    const runId = runner(id, { x: new ort.Tensor("float32", x, shape) });
    const runOn = async (input: Float32Array) => {
      const small = await session({ ...spec, inputs: [{ ...spec.inputs[0], shape: [input.length] }], outputs: [{ ...spec.outputs[0], shape: [input.length] }] });
      try {
        return await runner(small, { x: new ort.Tensor("float32", input, [input.length]) })();
      } finally {
        await small.release();
      }
    };
    const check = await verify(await run(), runOn);
    const t = await measureAsync([{ name: "op", run }, { name: "identity", run: runId }], options);
    const rate = (key: string) => x.length / (t.get(key) ?? Number.NaN);
    return {
      label: label(`${what}, ${x.length} elements`),
      value: rate("op"),
      unit: "elements/s",
      seconds: t.get("op") ?? Number.NaN,
      check,
      variants: { "Identity f32→f32": rate("identity") },
      notes: ["timed: session.run (x copied into the wasm heap, y copied out)", ...notes],
    };
  } finally {
    await s.release();
    await id.release();
  }
}

const castModel = (length: number, to: ElemType): ModelSpec => ({
  nodes: [{ opType: "Cast", inputs: ["x"], outputs: ["y"], intAttributes: to === ElemType.FLOAT8E4M3FN ? { to, saturate: 1 } : { to } }],
  inputs: [{ name: "x", elemType: ElemType.FLOAT, shape: [length] }],
  outputs: [{ name: "y", elemType: to, shape: [length] }],
});

/** Known codes every cast check runs: [input, FLOAT8E4M3FN code (saturate), FLOAT16 bits]. */
const KNOWN: readonly (readonly [number, number, number])[] = [
  [1.5, 0x3c, 0x3e00],
  [448, 0x7e, 0x5f00],
  [500, 0x7e, 0x5fd0],
  [Number.NaN, 0x7f, 0x7e00],
  [-1.5, 0xbc, 0xbe00],
  [0.3, 0x2a, 0x34cd],
  [65504, 0x7e, 0x7bff],
  [1e6, 0x7e, 0x7c00],
];

/**
 * Whether this onnxruntime-web build can return FLOAT8E4M3FN tensors: builds Cast float32 →
 * FLOAT8E4M3FN (saturate = 1) and tries to create a session on it.
 */
export async function float8Support(): Promise<{ readonly supported: boolean; readonly reason: string }> {
  try {
    const s = await session(castModel(4, ElemType.FLOAT8E4M3FN));
    await s.release();
    return { supported: true, reason: "session with a FLOAT8E4M3FN output created" };
  } catch (e) {
    return {
      supported: false,
      reason: `onnxruntime-web ${initOrt()} cannot return a FLOAT8E4M3FN (elem_type 17) tensor to JS: session creation fails with "${e instanceof Error ? e.message : String(e)}" (its JS tensor types have no float8; BitCast has no float8 kernel)`,
    };
  }
}

/** Cast float32 → FLOAT8E4M3FN (saturate = 1) elements/s; throws if the build cannot (see float8Support). */
export async function castFloat8E4M3ElementsPerSec(x: Float32Array, options: MeasureOptions = {}): Promise<PeerFigure> {
  return elementwise(
    "Cast float32 → FLOAT8E4M3FN (saturate)",
    castModel(x.length, ElemType.FLOAT8E4M3FN),
    x,
    async (out, runOn) => {
      const codes = bytesOf(out.data as Uint8Array);
      const known = bytesOf((await runOn(Float32Array.from(KNOWN, (r) => r[0]))).data as Uint8Array);
      KNOWN.forEach(([v, code], i) => {
        if (known[i] !== code) throw new Error(`Cast to e4m3fn: ${v} → ${hex(known[i])}, expected ${hex(code)}`);
      });
      const bad = x.findIndex((v, i) => codes[i] !== e4m3fnCode(v));
      if (bad >= 0) throw new Error(`Cast to e4m3fn: x[${bad}] = ${x[bad]} → ${hex(codes[bad])}, expected ${hex(e4m3fnCode(x[bad]))}`);
      return `known codes ${KNOWN.map(([v, c]) => `${v}→${hex(c)}`).join(", ")}; all ${x.length} codes equal a round-to-nearest-even saturating reference`;
    },
    options,
  );
}

/** Cast float32 → FLOAT16 elements/s, checked against known bits and a round-to-nearest-even reference. */
export async function castFloat16ElementsPerSec(x: Float32Array, options: MeasureOptions = {}): Promise<PeerFigure> {
  return elementwise(
    "Cast float32 → FLOAT16",
    castModel(x.length, ElemType.FLOAT16),
    x,
    async (out, runOn) => {
      const d = out.data as ArrayBufferView;
      const bits = new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2);
      const kd = (await runOn(Float32Array.from(KNOWN, (r) => r[0]))).data as ArrayBufferView;
      const known = new Uint16Array(kd.buffer, kd.byteOffset, kd.byteLength / 2);
      KNOWN.forEach(([v, , h], i) => {
        const ok = Number.isNaN(v) ? (known[i] & 0x7c00) === 0x7c00 && (known[i] & 0x3ff) !== 0 : known[i] === h;
        if (!ok) throw new Error(`Cast to f16: ${v} → ${hex(known[i], 4)}, expected ${hex(h, 4)}`);
      });
      const bad = x.findIndex((v, i) => bits[i] !== float16Bits(v));
      if (bad >= 0) throw new Error(`Cast to f16: x[${bad}] = ${x[bad]} → ${hex(bits[bad], 4)}, expected ${hex(float16Bits(x[bad]), 4)}`);
      return `known bits ${KNOWN.map(([v, , h]) => `${v}→${hex(h, 4)}`).join(", ")} (NaN: any NaN); all ${x.length} equal a round-to-nearest-even reference`;
    },
    options,
  );
}

/**
 * float32 → FLOAT8E4M3FN (saturate) → float32 inside one graph (two Casts per element): the float8
 * kernels this build has, with codes checked through their values (every e4m3fn value but NaN has
 * one code). Not a figure for the encode alone.
 */
export async function castFloat8E4M3RoundTripElementsPerSec(x: Float32Array, options: MeasureOptions = {}): Promise<PeerFigure> {
  const spec: ModelSpec = {
    nodes: [
      { opType: "Cast", inputs: ["x"], outputs: ["t"], intAttributes: { to: ElemType.FLOAT8E4M3FN, saturate: 1 } },
      { opType: "Cast", inputs: ["t"], outputs: ["y"], intAttributes: { to: ElemType.FLOAT } },
    ],
    inputs: [{ name: "x", elemType: ElemType.FLOAT, shape: [x.length] }],
    outputs: [{ name: "y", elemType: ElemType.FLOAT, shape: [x.length] }],
  };
  const same = (got: number, code: number) => Object.is(got, E4M3FN_VALUES[code]) || (Number.isNaN(got) && Number.isNaN(E4M3FN_VALUES[code]));
  return elementwise(
    "Cast float32 → FLOAT8E4M3FN (saturate) → float32 round trip (2 Casts)",
    spec,
    x,
    async (out, runOn) => {
      const values = out.data as Float32Array;
      const known = (await runOn(Float32Array.from(KNOWN, (r) => r[0]))).data as Float32Array;
      KNOWN.forEach(([v, code], i) => {
        if (!same(known[i], code)) throw new Error(`e4m3fn round trip: ${v} → ${known[i]}, expected the value of ${hex(code)} (${E4M3FN_VALUES[code]})`);
      });
      const bad = x.findIndex((v, i) => !same(values[i], e4m3fnCode(v)));
      if (bad >= 0) throw new Error(`e4m3fn round trip: x[${bad}] = ${x[bad]} → ${values[bad]}, expected ${E4M3FN_VALUES[e4m3fnCode(x[bad])]}`);
      return `known codes via their values ${KNOWN.map(([v, c]) => `${v}→${hex(c)}`).join(", ")} (NaN: 0x7f or 0xff); all ${x.length} equal the reference encode + decode`;
    },
    options,
    ["two Casts per element (encode + decode): the float8 codes cannot leave the graph in this build"],
  );
}

/**
 * Cast float32 → FLOAT8E4M3FN elements/s where this build can return float8 tensors; otherwise
 * Cast float32 → FLOAT16 with a note saying why (the label names the cast measured).
 */
export async function castFloat8E4M3OrFloat16(x: Float32Array, options: MeasureOptions = {}): Promise<PeerFigure> {
  const f8 = await float8Support();
  if (f8.supported) return castFloat8E4M3ElementsPerSec(x, options);
  const f16 = await castFloat16ElementsPerSec(x, options);
  return { ...f16, notes: [...(f16.notes ?? []), `measured FLOAT16 instead of FLOAT8E4M3FN: ${f8.reason}`] };
}

/**
 * QuantizeLinear float32 → int8 elements/s, per-tensor y_scale (f32) and y_zero_point (int8) as
 * initializers; checked once, exactly, against saturate(roundHalfEven(x / scale) + zeroPoint)
 * (x / scale in f32) for every non-NaN x; what NaN became is reported.
 */
export async function quantizeLinearElementsPerSec(x: Float32Array, scale: number, zeroPoint: number, options: MeasureOptions = {}): Promise<PeerFigure> {
  if (!(Number.isInteger(zeroPoint) && zeroPoint >= -128 && zeroPoint <= 127)) throw new Error(`int8 zero point out of range: ${zeroPoint}`);
  const s32 = Math.fround(scale);
  const spec: ModelSpec = {
    nodes: [{ opType: "QuantizeLinear", inputs: ["x", "scale", "zero_point"], outputs: ["y"] }],
    inputs: [{ name: "x", elemType: ElemType.FLOAT, shape: [x.length] }],
    outputs: [{ name: "y", elemType: ElemType.INT8, shape: [x.length] }],
    initializers: [
      { name: "scale", elemType: ElemType.FLOAT, dims: [], raw: bytesOf(new Float32Array([s32])) },
      { name: "zero_point", elemType: ElemType.INT8, dims: [], raw: bytesOf(new Int8Array([zeroPoint])) },
    ],
  };
  const reference = (v: number) => Math.min(127, Math.max(-128, roundHalfEven(Math.fround(v / s32)) + zeroPoint));
  return elementwise(
    `QuantizeLinear float32 → int8 (scale ${s32}, zero point ${zeroPoint})`,
    spec,
    x,
    async (out) => {
      const y = out.data as Int8Array;
      let mismatches = 0;
      let first = -1;
      const nanCodes = new Set<number>();
      let nans = 0;
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i])) {
          nans++;
          nanCodes.add(y[i]); // ONNX leaves NaN → integer unspecified
        } else if (y[i] !== reference(x[i])) {
          mismatches++;
          if (first < 0) first = i;
        }
      }
      if (mismatches > 0) throw new Error(`QuantizeLinear: ${mismatches} of ${x.length} differ, first x[${first}] = ${x[first]} → ${y[first]}, expected ${reference(x[first])}`);
      const nan = nans > 0 ? `; NaN → ${[...nanCodes].join(", ")} (unspecified by ONNX, not compared)` : "";
      return `all ${x.length - nans} non-NaN codes equal saturate(roundHalfEven(x / scale) + zero point)${nan}`;
    },
    options,
  );
}
