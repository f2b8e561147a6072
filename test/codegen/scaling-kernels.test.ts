/**
 * Scaling kernels run through their plans (runPlan) against the tensor semantics, bit for bit:
 * codes, metadata, dequantized and fake-quantized values (compared as Uint32 views), and the
 * delayed-amax state across calls. The IR interpreter must agree with the JS kernels, and the
 * IR log2f/exp2f with the semantics' elementary functions.
 */
import { describe, expect, it } from "vitest";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { Builder, i32, kernel, load, ref } from "../../src/codegen/ir/build.ts";
import type { Expr, Kernel, Stmt } from "../../src/codegen/ir/nodes.ts";
import { lowerBlockExponent, lowerCeilExponentRatio, lowerFloorExponentRatio } from "../../src/codegen/lower/scaling/exponents.ts";
import { blockExponent } from "../../src/scaling/block/semantics.ts";
import { ceilExponentRatio, floorExponentRatio } from "../../src/dsl/semantics/scaling/exponents.ts";
import { lowerExp2f, lowerLog2f } from "../../src/codegen/lower/elementary.ts";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import { buffersFromMeta, buffersFromState, metaFromBuffers, stateFromBuffers } from "../../src/codegen/meta.ts";
import type { FormatPlans } from "../../src/codegen/plan.ts";
import type { ResolvedFormat, ResolvedScaling } from "../../src/dsl/resolved.ts";
import { exp2f, log2f } from "../../src/dsl/semantics/elementary.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { dequantize, fakeQuantize, quantize, type ScaleMeta, type ScalingState } from "../../src/dsl/semantics/tensor.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../../src/package-runtime/run-plan.js";
import { builtin } from "../support/formats.ts";
import { byRow } from "../support/plans.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

const jsKernels = (kernels: readonly Kernel[]): Kernels => loadJs({ kernels }) as unknown as Kernels;

/** The interpreter behind the same positional calling convention as the JS kernels. */
function interpretedKernels(kernels: readonly Kernel[]): Kernels {
  return Object.fromEntries(
    kernels.map((k) => [k.name, (...args: (BufferArray | number)[]) => interpret(k, Object.fromEntries(k.params.map((p, i) => [p.name, args[i]])))] as const),
  );
}

// ---------------------------------------------------------------------------------------------
// Formats

const SCALED = ["s2fp8", "mxfp8", "mxfp6", "mxfp4", "mxint8", "shiftquant4", "shiftquant6", "shiftquant8"];

function amaxVariants(): ResolvedFormat[] {
  const out: ResolvedFormat[] = [];
  for (const base of ["e4m3", "int8"])
    for (const granularity of ["tensor", "channel"] as const)
      for (const history of [{ mode: "current" }, { mode: "delayed", length: 3 }] as const)
        for (const margin of [0, 2])
          for (const scale of ["fp32", "power-of-two"] as const) {
            const scaling: ResolvedScaling = { kind: "amax", granularity, history, margin, scale };
            out.push({ ...builtin(base), name: `${base}-amax-${granularity}-${history.mode}-m${margin}-${scale}`, scaling });
          }
  return out;
}

/** Scalings the built-ins do not use: MX ceil/even and other block sizes, S2FP8 over E4M3, other group counts. */
function scaledVariants(): ResolvedFormat[] {
  const block = (name: string, scaleRounding: "floor" | "ceil" | "even", blockSize?: number): ResolvedFormat => {
    const f = builtin(name);
    if (f.scaling.kind !== "block") throw new Error(`${name} is not block-scaled`);
    const size = blockSize ?? ("block" in f.scaling.granularity ? f.scaling.granularity.block : 0);
    const scaling = { ...f.scaling, scaleRounding, granularity: { block: size } };
    return { ...f, name: `${name}-${scaleRounding}-${size}`, scaling };
  };
  return [
    block("mxfp8", "ceil"),
    block("mxfp8", "even"),
    block("mxfp6", "even", 7),
    block("mxfp4", "ceil", 5),
    block("mxfp4", "even"),
    block("mxint8", "even", 1),
    { ...builtin("e4m3"), name: "e4m3-shift-squeeze-8", scaling: { kind: "shift-squeeze", targetMaxLog2: 8 } },
    { ...builtin("shiftquant6"), name: "shiftquant6-groups-1", scaling: { kind: "shift-groups", groups: 1 } },
    { ...builtin("shiftquant4"), name: "shiftquant4-groups-9", scaling: { kind: "shift-groups", groups: 9 } },
  ];
}

const stochastic = (format: ResolvedFormat, bits: number): ResolvedFormat => ({ ...format, name: `${format.name}-sr${bits}`, rounding: { mode: "stochastic", bits } });

// ---------------------------------------------------------------------------------------------
// Tensors

const uniform = (seed: number, i: number) => counterRandom(seed, i) / 2 ** 32;

type TensorKind = "mixed" | "finite" | "bits" | "equal" | "zeros" | "channels" | "tiny";
const KINDS: readonly TensorKind[] = ["mixed", "finite", "bits", "equal", "zeros", "channels", "tiny"];

/** A seeded tensor of n entries; `channels` matters for the per-channel magnitudes of "channels". */
function tensor(kind: TensorKind, n: number, seed: number, channels = 1): Float32Array {
  const logUniform = (i: number, center: number, binades: number) =>
    (counterRandom(seed + 1, i) & 1 ? -1 : 1) * 2 ** (center + (uniform(seed, i) - 0.5) * binades);
  const per = n / channels;
  return Float32Array.from({ length: n }, (_, i) => {
    switch (kind) {
      case "mixed": {
        const u = uniform(seed + 7, i);
        if (u < 0.04) return 0;
        if (u < 0.05) return -0;
        if (u < 0.06) return Number.NaN;
        if (u < 0.07) return Number.POSITIVE_INFINITY;
        if (u < 0.08) return Number.NEGATIVE_INFINITY;
        if (u < 0.1) return logUniform(i, -135, 20); // float32 subnormals
        return logUniform(i, (uniform(seed + 3, 0) - 0.5) * 60, 30);
      }
      case "finite":
        return logUniform(i, (uniform(seed + 3, 0) - 0.5) * 200, 40);
      case "bits": {
        const bits = new Uint32Array([counterRandom(seed + 11, i)]);
        return new Float32Array(bits.buffer)[0];
      }
      case "equal":
        return logUniform(0, 0, 20);
      case "zeros":
        return counterRandom(seed, i) & 1 ? -0 : 0;
      case "channels":
        return logUniform(i, Math.floor(uniform(seed + 5, Math.floor(i / per)) * 40) - 20, 4) * (uniform(seed + 9, i) < 0.05 ? 0 : 1);
      case "tiny":
        return logUniform(i, -140, 16);
    }
  });
}

const SIZES = [0, 1, 31, 33, 257, 1000];
const CHANNEL_COUNTS: Readonly<Record<number, readonly number[]>> = { 0: [1, 4], 1: [1], 31: [1, 31], 33: [1, 3, 11], 257: [1, 257], 1000: [1, 8, 125, 1000] };

// ---------------------------------------------------------------------------------------------
// Comparison

const u32View = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Entries that differ (as integers), counting a length difference as that many mismatches. */
function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let count = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) count++;
  return count;
}
/**
 * Float32 entries whose bits differ, except that two NaNs are equal: the semantics' NaN sign is
 * V8's (its −NaN from decodeFloat becomes +NaN once the JIT folds it), not a defined value.
 */
function differingF32(a: Float32Array, b: Float32Array): number {
  const ua = u32View(a);
  const ub = u32View(b);
  let count = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) count++;
  return count;
}

/** Metadata as integer arrays (float32s by their bits), so it compares bit for bit. */
function metaWords(meta: ScaleMeta): number[][] {
  switch (meta.kind) {
    case "none":
      return [];
    case "amax":
      return [[...u32View(meta.scale)], [...u32View(meta.scaleInv)], [...u32View(meta.amax)]];
    case "block":
      return [[meta.shape.rows, meta.shape.cols, ...meta.tile], [...meta.scaleCodes], [...u32View(Float32Array.of(meta.tensorScale))]];
    case "shift-squeeze":
      return [[...u32View(Float32Array.of(meta.alpha, meta.beta))]];
    case "shift-groups":
      return [[...meta.channelGroup], [...meta.groupExponent]];
  }
}

const stateWords = (state: ScalingState | undefined): number[][] => (state === undefined ? [] : state.amaxHistory.map((h) => [...u32View(h)]));

function differingWords(a: number[][], b: number[][]): number {
  let count = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) count += differing(a[i], b[i]);
  return count;
}

interface Lowered {
  readonly format: ResolvedFormat;
  readonly plans: FormatPlans;
  readonly kernels: Kernels;
}

interface Call {
  readonly seed: number;
  readonly channels: number;
  /** Semantics state and the kernels' state buffers from the previous call. */
  readonly state?: ScalingState;
  readonly stateBuffers?: Readonly<Record<string, BufferArray>>;
}

/**
 * One tensor through encode, decode (of the kernels' codes + meta, and of the semantics' codes +
 * meta) and fakeQuantize; mismatching entries by part, and the next states.
 */
function check(lowered: Lowered, x: Float32Array, call: Call) {
  const { format, plans, kernels } = lowered;
  const options = { seed: call.seed, channels: call.channels, state: call.state };
  const runCall = { n: x.length, seed: call.seed, channels: call.channels };
  const q = quantize(format, x, options);
  const deq = dequantize(format, q.codes, q.meta, { channels: call.channels });
  const fq = fakeQuantize(format, x, options);

  const enc = runPlan(plans.encode, kernels, { x, ...call.stateBuffers }, runCall);
  const meta = metaFromBuffers(format, enc.meta, runCall);
  const dec = runPlan(plans.decode, kernels, { codes: enc.outputs.codes, ...enc.meta }, runCall);
  const decSemantics = runPlan(plans.decode, kernels, { codes: q.codes, ...buffersFromMeta(format, q.meta) }, runCall);
  // fakeQuantize takes the state through the ScalingState conversion, encode took the buffers.
  const fqState = buffersFromState(format, call.state, call.channels);
  const fake = runPlan(plans.fakeQuantize, kernels, { x, ...fqState }, runCall);

  const counts = {
    codes: differing(enc.outputs.codes, q.codes),
    meta: differingWords(metaWords(meta), metaWords(q.meta)),
    decoded: differingF32(dec.outputs.values as Float32Array, deq),
    decodedFromSemantics: differingF32(decSemantics.outputs.values as Float32Array, deq),
    fakeQuantized: differingF32(fake.outputs.values as Float32Array, fq.values),
    fakeMeta: differingWords(metaWords(metaFromBuffers(format, fake.meta, runCall)), metaWords(fq.meta)),
    state: differingWords(stateWords(stateFromBuffers(format, enc.state)), stateWords(q.state)),
    fakeState: differingWords(stateWords(stateFromBuffers(format, fake.state)), stateWords(fq.state)),
  };
  return { counts, state: q.state, stateBuffers: enc.state, outputs: { codes: enc.outputs.codes, decoded: dec.outputs.values, fake: fake.outputs.values } };
}

/** Adds the non-zero counts under `label` to `into`. */
function tally(into: Record<string, number>, label: string, counts: Readonly<Record<string, number>>): void {
  for (const [part, c] of Object.entries(counts)) if (c !== 0) into[`${label} ${part}`] = (into[`${label} ${part}`] ?? 0) + c;
}

function lower(format: ResolvedFormat, interpreted = false): Lowered {
  const { kernels, plans } = lowerFormat(format);
  return { format, plans, kernels: interpreted ? interpretedKernels(kernels) : jsKernels(kernels) };
}

/** Every tensor kind, size and channel count through one format; returns mismatch counts and how many entries were compared. */
function sweep(lowered: Lowered, seeds: readonly number[], sizes = SIZES, kinds = KINDS) {
  const mismatches: Record<string, number> = {};
  let compared = 0;
  // Channels only change what a per-channel scaling does; elsewhere the first and last count do.
  for (const n of sizes)
    for (const channels of byRow(lowered.format) ? CHANNEL_COUNTS[n] : [...new Set([CHANNEL_COUNTS[n][0], CHANNEL_COUNTS[n].at(-1) ?? 1])])
      for (const kind of kinds)
        for (const seed of seeds) {
          const x = tensor(kind, n, 1000 * n + 17 * channels + seed, channels);
          const r = check(lowered, x, { seed, channels });
          tally(mismatches, `${lowered.format.name} n=${n} c=${channels} ${kind} seed=${seed}:`, r.counts);
          compared += n;
        }
  return { mismatches, compared };
}

// ---------------------------------------------------------------------------------------------

describe("log2f / exp2f in IR", () => {
  const elementary = kernel(
    "elementary",
    [
      { kind: "buffer", name: "x", storage: "f32", access: "read" },
      { kind: "buffer", name: "log", storage: "f32", access: "write" },
      { kind: "buffer", name: "exp", storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ],
    (b) =>
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const x = body.let("x", load("f32", "x", i));
        body.store("log", i, lowerLog2f(body, x));
        body.store("exp", i, lowerExp2f(body, x));
      }),
  );
  const specials = [0, -0, 1, -1, 2, 0.5, Number.NaN, -Number.NaN, Infinity, -Infinity, 2 ** -149, 2 ** -126, 2 ** -127, 3.4028234663852886e38, 127.99999, 128, -151, -151.00001, -150.5, -126, -126.5, -149.99, 1e-45, -1e-45, -(2 ** -26), -(2 ** -25), -(2 ** -24), -1e-30, -0.5];
  const inputs = Float32Array.from({ length: 300_000 }, (_, i) => {
    if (i < specials.length) return specials[i];
    if (i % 3 === 0) return new Float32Array(new Uint32Array([counterRandom(77, i)]).buffer)[0];
    if (i % 3 === 1) return (uniform(78, i) - 0.5) * 320; // the whole exp2f range and beyond
    return 2 ** ((uniform(79, i) - 0.5) * 300); // positive, subnormals to huge
  });
  const expected = { log: Float32Array.from(inputs, log2f), exp: Float32Array.from(inputs, exp2f) };

  it("JS kernels equal the semantics on 300k inputs (bit patterns, the exp2 range, subnormals, specials)", () => {
    const log = new Float32Array(inputs.length);
    const exp = new Float32Array(inputs.length);
    jsKernels([elementary]).elementary(inputs, log, exp, inputs.length);
    expect({ log: differing(u32View(log), u32View(expected.log)), exp: differing(u32View(exp), u32View(expected.exp)) }).toEqual({ log: 0, exp: 0 });
  });

  it("exp2f just below 0 is 1 (y − ⌊y⌋ rounding up to 1 carries into the exponent)", () => {
    for (const y of [-1e-45, -(2 ** -26), -(2 ** -25)]) expect(exp2f(y)).toBe(1);
  });

  it("the interpreter equals the semantics on 20k of them", () => {
    const n = 20_000;
    const log = new Float32Array(n);
    const exp = new Float32Array(n);
    interpret(elementary, { x: inputs.subarray(0, n), log, exp, n });
    expect({ log: differing(u32View(log), u32View(expected.log.subarray(0, n))), exp: differing(u32View(exp), u32View(expected.exp.subarray(0, n))) }).toEqual({
      log: 0,
      exp: 0,
    });
  });
});

describe("exponents of amax / limit around every decision threshold", () => {
  /** Float32 significands within 3000 ulps of 1, 2, s, s·√2 and s/√2 (folded into [1, 2)), s = the limit's significand. */
  function nearThresholds(limit: number): number[] {
    const s = limit / 2 ** Math.floor(Math.log2(limit));
    const fold = (v: number) => (v >= 2 ? v / 2 : v < 1 ? v * 2 : v);
    const out: number[] = [];
    for (const c of [1, 2 - 2 ** -23, s, fold(s * Math.SQRT2), fold(s / Math.SQRT2)]) {
      const center = new Uint32Array(Float32Array.of(c).buffer)[0];
      for (let d = -3000; d <= 3000; d++) {
        const bits = center + d;
        if (bits >= 0x3f800000 && bits < 0x40000000) out.push(new Float32Array(new Uint32Array([bits]).buffer)[0]);
      }
    }
    return out;
  }
  const exponentKernel = (f: (b: Builder, a: Expr) => Expr) =>
    jsKernels([
      kernel(
        "exponents",
        [
          { kind: "buffer", name: "a", storage: "f32", access: "read" },
          { kind: "buffer", name: "out", storage: "i32", access: "write" },
          { kind: "scalar", name: "n", type: "i32" },
        ],
        (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, f(body, load("f32", "a", i)))),
      ),
    ]).exponents;
  const run = (f: (b: Builder, a: Expr) => Expr, a: Float32Array) => {
    const out = new Int32Array(a.length);
    exponentKernel(f)(a, out, a.length);
    return out;
  };

  it("MX floor / ceil / even (block.ts, evenExponent's double arithmetic included)", () => {
    const mismatches: Record<string, number> = {};
    for (const name of ["mxfp8", "mxfp6", "mxfp4", "mxint8"])
      for (const rule of ["floor", "ceil", "even"] as const) {
        const format = builtin(name);
        if (format.scaling.kind !== "block") throw new Error("block format expected");
        const scaling = { ...format.scaling, scaleRounding: rule };
        const a = Float32Array.from(nearThresholds(format.maxFinite).flatMap((sig) => [sig * 2 ** -3, sig, sig * 2 ** 5, sig * 2 ** 40]));
        const got = run((b, x) => lowerBlockExponent(b, x, format.maxFinite, rule), a);
        const want = Int32Array.from(a, (v) => blockExponent(format, scaling, Math.abs(v), !Number.isFinite(v)) ?? Number.NaN);
        tally(mismatches, `${name} ${rule}`, { exponent: differing(got, want) });
      }
    expect(mismatches).toEqual({});
  });

  it("ceil / floor exponent ratios (amax power-of-two, ShiftQuant), subnormal amax included", () => {
    const mismatches: Record<string, number> = {};
    for (const limit of [448, 57344, 127, 7, 31, 6, 7.5, 127 / 64, 3.4028234663852886e38]) {
      const a = Float32Array.from(nearThresholds(limit).flatMap((sig) => [sig * 2 ** -140, sig * 2 ** -100, sig, sig * 2 ** 60, sig * 2 ** 127]));
      const ceil = run((b, x) => lowerCeilExponentRatio(b, x, limit), a);
      const floor = run((b, x) => lowerFloorExponentRatio(b, limit, x), a);
      tally(mismatches, `${limit}`, {
        ceil: differing(ceil, Int32Array.from(a, (v) => ceilExponentRatio(v, limit))),
        floor: differing(floor, Int32Array.from(a, (v) => floorExponentRatio(limit, v))),
      });
    }
    expect(mismatches).toEqual({});
  });
});

describe("plans", () => {
  const formats = [...SCALED.map(builtin), ...scaledVariants(), ...amaxVariants(), builtin("e4m3"), builtin("int8")];
  it("every step passes every kernel parameter in declaration order; kernel names are unique", () => {
    for (const format of formats) {
      const { kernels, plans } = lowerFormat(format);
      expect(new Set(kernels.map((k) => k.name)).size).toBe(kernels.length);
      for (const plan of [plans.encode, plans.decode, plans.fakeQuantize])
        for (const s of plan.steps) {
          const k = kernels.find((kk) => kk.name === s.kernel);
          expect(k, `${format.name}: ${s.kernel}`).toBeDefined();
          expect(s.params).toEqual(k?.params.map((p) => p.name));
        }
    }
  });

  it("only finalize kernels branch inside a loop on a per-element or per-tile condition or divide floats; element and statistics kernels use selects and multiplies", () => {
    // A branch outside every loop (block scaling's choice of the tile orientation by block axis) is taken once per call;
    // so is one inside a loop whose condition is a let bound outside every loop (the same way for every tile: block
    // statistics' end-to-end tiles), which neither diverges on a GPU nor mispredicts on a CPU. No branch inside one.
    const ifInLoop = (stmts: readonly Stmt[], inLoop: boolean, uniform: ReadonlySet<string>): boolean =>
      stmts.some(
        (s) =>
          (s.kind === "if" && ((inLoop && !(s.cond.kind === "ref" && uniform.has(s.cond.name))) || ifInLoop(s.then, inLoop, new Set()) || ifInLoop(s.else, inLoop, new Set()))) ||
          (s.kind === "for" && ifInLoop(s.body, true, uniform)),
      );
    const hasIf = (stmts: readonly Stmt[]) => ifInLoop(stmts, false, new Set(stmts.flatMap((s) => (s.kind === "let" ? [s.name] : []))));
    // Float division only: integer division finds an element's tile (block scaling), exactly.
    const divides = (e: Expr): boolean =>
      (e.kind === "binary" && ((e.op === "div" && e.type === "f32") || divides(e.a) || divides(e.b))) ||
      (e.kind === "compare" && (divides(e.a) || divides(e.b))) ||
      (e.kind === "select" && (divides(e.cond) || divides(e.then) || divides(e.else))) ||
      ((e.kind === "unary" || e.kind === "convert" || e.kind === "splat" || e.kind === "extract") && divides(e.arg)) ||
      ((e.kind === "load" || e.kind === "lookup") && divides(e.index));
    const hasDiv = (stmts: readonly Stmt[]): boolean =>
      stmts.some((s) => {
        switch (s.kind) {
          case "let":
          case "assign":
            return divides(s.value);
          case "var":
            return divides(s.init);
          case "store":
            return divides(s.index) || divides(s.value);
          case "for":
            return divides(s.from) || divides(s.to) || hasDiv(s.body);
          case "if":
            return divides(s.cond) || hasDiv(s.then) || hasDiv(s.else);
        }
      });
    for (const format of formats)
      for (const k of lowerFormat(format).kernels) {
        const once = k.name.endsWith("_finalize") || k.name.endsWith("_inverse");
        if (!k.name.endsWith("_finalize")) expect(hasIf(k.body), `${format.name} ${k.name} branches`).toBe(false);
        if (!once) expect(hasDiv(k.body), `${format.name} ${k.name} divides`).toBe(false);
      }
  });

  it("runPlan keeps the caller's state, refuses missing or mistyped inputs", () => {
    const format = amaxVariants().find((f) => f.name === "e4m3-amax-tensor-delayed-m0-fp32");
    if (format === undefined) throw new Error("missing variant");
    const { plans, kernels } = lower(format);
    const x = tensor("finite", 64, 1);
    const first = runPlan(plans.encode, kernels, { x });
    const before = [...(first.state.amax_history as Float32Array)];
    runPlan(plans.encode, kernels, { x, ...first.state });
    expect([...(first.state.amax_history as Float32Array)]).toEqual(before);
    expect(() => runPlan(plans.encode, kernels, {}, { n: 4 })).toThrow(/missing input buffer x/);
    expect(() => runPlan(plans.encode, kernels, { x: new Float64Array(4) as unknown as Float32Array })).toThrow(/Float32Array/);
    expect(() => runPlan(plans.encode, kernels, { x }, { channels: 5 })).toThrow(/do not divide/);
  });
});

describe("scaled formats through runPlan equal the semantics bit for bit", () => {
  for (const format of [...SCALED.map(builtin), ...scaledVariants()]) {
    it(`${format.name}: nearest-even and stochastic (8 and 24 bits, three seeds)`, () => {
      const a = sweep(lower(format), [0]);
      const b = sweep(lower(stochastic(format, 8)), [0, 1, 0xdeadbeef]);
      const c = sweep(lower(stochastic(format, 24)), [5], [31, 257, 1000], ["mixed", "finite", "channels"]);
      expect({ ...a.mismatches, ...b.mismatches, ...c.mismatches }).toEqual({});
      expect(a.compared + b.compared + c.compared).toBeGreaterThan(0);
    });
  }

  for (const base of ["e4m3", "int8"])
    for (const granularity of ["tensor", "channel"])
      it(`amax ${base} per ${granularity} (current/delayed × margin 0/2 × fp32/power-of-two), single calls`, () => {
        const mismatches: Record<string, number> = {};
        for (const format of amaxVariants().filter((f) => f.name.startsWith(`${base}-amax-${granularity}-`))) {
          Object.assign(mismatches, sweep(lower(format), [0]).mismatches);
          Object.assign(mismatches, sweep(lower(stochastic(format, 8)), [3], [33, 1000], ["mixed", "channels"]).mismatches);
        }
        expect(mismatches).toEqual({});
      });

  it("delayed amax over 6 consecutive calls carrying state (and a channel-count change that drops it)", () => {
    const mismatches: Record<string, number> = {};
    for (const base of amaxVariants().filter((f) => f.scaling.kind === "amax" && f.scaling.history.mode === "delayed"))
      for (const format of [base, stochastic(base, 8)]) {
        const lowered = lower(format);
        for (const [n, channelSequence] of [
          [1000, [8, 8, 8, 8, 8, 8]],
          [33, [3, 3, 3, 11, 11, 3]],
          [257, [1, 1, 1, 1, 257, 257]],
        ] as const) {
          let state: ScalingState | undefined;
          let stateBuffers: Readonly<Record<string, BufferArray>> | undefined;
          channelSequence.forEach((channels, call) => {
            // Magnitudes drift by up to ±8 binades between calls so the history decides the scale.
            const x = tensor(call % 3 === 2 ? "mixed" : "finite", n, 31 * call + n, channels).map((v) => v * 2 ** Math.round((uniform(91, call) - 0.5) * 16));
            const r = check(lowered, x, { seed: call, channels, state, stateBuffers });
            tally(mismatches, `${format.name} n=${n} call ${call} c=${channels}:`, r.counts);
            state = r.state;
            stateBuffers = r.stateBuffers;
          });
        }
      }
    expect(mismatches).toEqual({});
  });
});

describe("the IR interpreter equals the JS kernels", () => {
  const formats = [
    builtin("s2fp8"),
    builtin("mxfp4"),
    builtin("mxint8"),
    builtin("shiftquant4"),
    stochastic(builtin("mxfp8"), 8),
    ...amaxVariants().filter((f) => ["e4m3-amax-channel-delayed-m2-power-of-two", "int8-amax-tensor-current-m2-fp32"].includes(f.name)),
    builtin("e4m3"),
  ];
  for (const format of formats) {
    it(format.name, () => {
      const js = lower(format);
      const interpreted = lower(format, true);
      const mismatches: Record<string, number> = {};
      for (const n of [1, 33, 257])
        for (const kind of ["mixed", "bits", "channels"] as const) {
          const channels = n === 33 ? 3 : 1;
          const x = tensor(kind, n, n + 5, channels);
          const a = check(js, x, { seed: 9, channels });
          const b = check(interpreted, x, { seed: 9, channels });
          tally(mismatches, `${format.name} n=${n} ${kind} semantics:`, b.counts);
          tally(mismatches, `${format.name} n=${n} ${kind} js vs interpreter:`, {
            codes: differing(a.outputs.codes, b.outputs.codes),
            decoded: differingF32(a.outputs.decoded as Float32Array, b.outputs.decoded as Float32Array),
            fake: differingF32(a.outputs.fake as Float32Array, b.outputs.fake as Float32Array),
          });
        }
      expect(mismatches).toEqual({});
    });
  }
});
