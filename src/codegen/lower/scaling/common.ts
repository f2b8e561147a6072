/**
 * Shared pieces of the scaling kernels: parameter declarations, the loop shapes (groups of equal
 * length, fixed-size blocks with a ragged tail), finite amax, the per-element random draw, and
 * plan steps that carry the kernel's positional parameter order.
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";
import { decodeF32Bits } from "../../../dsl/semantics/scalar.ts";
import { Builder, abs, add, and, asI32, asU32, bitsOf, f32, fromBits, gt, i32, kernel, load, lt, max, min, mul, ref, select, sub, u32 } from "../../ir/build.ts";
import type { Expr, Kernel, Param, ScalarType, StorageType } from "../../ir/nodes.ts";
import type { BufferDecl, BufferRole, FormatPlans, Size, Step, StepArg } from "../../plan.ts";
import { lowerDecodeElement } from "../element.ts";
import { codeStorage } from "../elementwise.ts";
import { lowerCounterRandom, lowerRandomKey } from "../random.ts";

export const reads = (name: string, storage: StorageType): Param => ({ kind: "buffer", name, storage, access: "read" });
export const writes = (name: string, storage: StorageType): Param => ({ kind: "buffer", name, storage, access: "write" });
export const updates = (name: string, storage: StorageType): Param => ({ kind: "buffer", name, storage, access: "readwrite" });
export const scalar = (name: string, type: ScalarType): Param => ({ kind: "scalar", name, type });
export const arg = (type: ScalarType, name: string): Expr => ref(type, name);

/** The standard parameters: element count, channel count and length, stochastic seed. */
export const N = scalar("n", "i32");
export const CHANNELS = scalar("channels", "i32");
export const CHANNEL_LENGTH = scalar("channel_length", "i32");
export const SEED = scalar("seed", "u32");
/** Groups of equal length: channels (or 1 for a whole tensor) and their length. */
export const GROUPS = scalar("groups", "i32");
export const GROUP_LENGTH = scalar("group_length", "i32");

/** Plan buffers every op uses: the input tensor, the codes and the decoded values. */
export const X = "x";
export const CODES = "codes";
export const VALUES = "values";

/** The code buffer's element type for the format. */
export { codeStorage };

/** A stochastic-rounding source: draw(i) is counterRandom(seed, i), or null for deterministic rounding. */
export function randomSource(b: Builder, format: ResolvedFormat): ((body: Builder, index: Expr) => Expr) | null {
  if (format.rounding.mode !== "stochastic") return null;
  const key = lowerRandomKey(b, arg("u32", SEED.name));
  return (body, index) => lowerCounterRandom(body, key, index);
}

/** for g < groups: body(g, start) with start = g·length. */
export function forGroups(b: Builder, groups: Expr, body: (group: Expr, start: Expr, inner: Builder) => void, length?: Expr): void {
  b.for("g", i32(0), groups, (g, inner) => body(g, length === undefined ? i32(0) : inner.let("start", mul(g, length)), inner));
}

/** Every block [start, min(start + size, n)) in order, with its index (a counter: the IR has no i32 division). */
export function forBlocks(b: Builder, n: Expr, size: number, body: (block: Expr, start: Expr, end: Expr, inner: Builder) => void): void {
  const index = b.var("block", i32(0));
  b.for(
    "start",
    i32(0),
    n,
    (start, inner) => {
      body(index.ref, start, inner.let("end", min(add(start, i32(size)), n)), inner);
      inner.assign(index.name, add(index.ref, i32(1)));
    },
    size,
  );
}

/** A running maximum of |x| on its float32 bits: where it starts, what each element adds (folded with max), and the amax it gives. */
export interface BitsAmax {
  readonly start: Expr;
  candidate(b: Builder, x: Expr): Expr;
  amax(acc: Expr): Expr;
}

const FINITE_OFFSET = 0x00800000;

/**
 * The amax of the finite entries (0 when none), as semantics finiteAmax: |x|'s bits, which order
 * as the values do (+0 and −0 both 0), offset by 2^23 as an i32, so the finite ones (below
 * 0x7f800000) stay positive and in order while ±∞ and NaN wrap negative and never win — a plain
 * signed maximum from the offset, one instruction per lane in wasm SIMD (float compares and
 * selects cost several on x86), reduced in parallel by the targets (wasm vectorize.ts, WGSL reduce.ts).
 */
export const FINITE_BITS_AMAX: BitsAmax = {
  start: i32(FINITE_OFFSET),
  candidate: (b, x) => b.let("offset_bits", add(asI32(and(bitsOf(x), u32(0x7fffffff))), i32(FINITE_OFFSET))),
  amax: (acc) => fromBits(asU32(sub(acc, i32(FINITE_OFFSET)))),
};

/** max |x[i]| over the finite entries of [start, end) (0 when none), as semantics finiteAmax (FINITE_BITS_AMAX). */
export function finiteAmax(b: Builder, buffer: string, start: Expr, end: Expr): Expr {
  const amax = b.var("amax_offset_bits", FINITE_BITS_AMAX.start);
  b.for("i", start, end, (i, body) => body.assign(amax.name, max(amax.ref, FINITE_BITS_AMAX.candidate(body, load("f32", buffer, i)))));
  return b.let("amax", FINITE_BITS_AMAX.amax(amax.ref));
}

/** f32 value of a scale-format code: a table of its own name, so it never aliases the element's table. */
export function lowerDecodeScale(b: Builder, scaleFormat: ResolvedFormat, code: Expr): Expr {
  if (scaleFormat.bits > 8) return lowerDecodeElement(b, scaleFormat, code);
  const bits = b.names.table(`scale_decode_${scaleFormat.bits}`, "u32", () => Array.from({ length: 2 ** scaleFormat.bits }, (_, c) => decodeF32Bits(scaleFormat, c)), code);
  return b.let("scale_value", fromBits(bits));
}

/** A plan buffer declaration. */
export function buffer(name: string, storage: StorageType, length: Size, role: BufferRole): BufferDecl {
  return { name, storage, length, role };
}

/** The call scalars a parameter of that name takes by default. */
const DEFAULT_SCALARS: Readonly<Record<string, StepArg>> = {
  n: { scalar: "n" },
  seed: { scalar: "seed" },
  channels: { scalar: "channels" },
  channel_length: { scalar: "channelLength" },
};

/**
 * A plan step calling `kernel`: buffer parameters bind the plan buffer of the same name and
 * n/seed/channels/channel_length the call scalars, unless `args` says otherwise.
 */
export function step(kernel: Kernel, args: Readonly<Record<string, StepArg>> = {}): Step {
  const params = kernel.params.map((p) => p.name);
  for (const name of Object.keys(args)) if (!params.includes(name)) throw new Error(`${kernel.name} has no parameter ${name}`);
  const bound: Record<string, StepArg> = {};
  for (const p of kernel.params) {
    const given = args[p.name] ?? (p.kind === "buffer" ? { buffer: p.name } : DEFAULT_SCALARS[p.name]);
    if (given === undefined) throw new Error(`${kernel.name}: no argument for ${p.name}`);
    bound[p.name] = given;
  }
  return { kernel: kernel.name, params, args: bound };
}

/** What lowering one scaling kind produces: its kernels and the plans that sequence them. */
export interface ScalingLowering {
  readonly kernels: readonly Kernel[];
  readonly plans: FormatPlans;
}

/** `name`(x, output, groups, group_length): output[g] = finite amax of group g. */
export function lowerGroupAmax(name: string, output: string): Kernel {
  return kernel(name, [reads(X, "f32"), writes(output, "f32"), GROUPS, GROUP_LENGTH], (b) => {
    const length = arg("i32", GROUP_LENGTH.name);
    forGroups(b, arg("i32", GROUPS.name), (g, start, body) => body.store(output, g, finiteAmax(body, X, start, add(start, length))), length);
  });
}

/** The tensor x (f32, one per element). */
export const xBuffer = (): BufferDecl => buffer(X, "f32", { perElement: 1 }, "input");
/** The codes, one per element, in the format's code storage. */
export const codesBuffer = (format: ResolvedFormat, role: BufferRole): BufferDecl => buffer(CODES, codeStorage(format), { perElement: 1 }, role);
/** Decoded (or fake-quantized) values, f32, one per element. */
export const valuesBuffer = (): BufferDecl => buffer(VALUES, "f32", { perElement: 1 }, "output");
