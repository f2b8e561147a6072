/**
 * The WGSL target's GEMM, C ← α·op(A)·op(B) + β·C with A and B each f32 or codes of a format
 * without tensor scaling — the function lower/gemm/gemm.ts defines, under this target's own
 * loop nest: a tiled compute shader with workgroup-memory tiles and 4×4 register tiles
 * (gemm-render.ts), into which each operand's element read and the merge into C are inserted as
 * functions rendered from the GEMM lowering's IR (gemm-functions.ts). compileWgslGemm is pure
 * (no device); gemm-run.ts runs the result.
 *
 * The result is a CompiledWgslKernel like every other, so the generic runner (runner.ts) — or any
 * runner that reads the same data — runs it without special cases:
 * - calling convention (`params`, positional): gemm(a, b, c, m, n, k, transA, transB, alpha,
 *   beta), as the JS and wasm GEMMs minus their scratch buffers (none needed here); op(A) is m×k
 *   (A stored m×k, or k×m when transA ≠ 0), op(B) is k×n (stored k×n, or n×k), C is m×n,
 *   row-major. Codes of ≤ 8 bits travel four per u32 word, 16-bit codes two (`packed`).
 * - one pass: bindings 0…2 the storage buffers a, b (read) and c (read-write), then — only when
 *   `pass.kernel.tables` is non-empty — one read-only storage buffer of the tables' words
 *   (render.ts tableLayout), then the uniform struct: the scalar parameters in order (i32, f32),
 *   then one u32 that must be 0, padded to 16 bytes (runner.ts uniformBytes).
 * - `pass.launch` = { kind: "tiles", workgroupSize: [16, 16], tile: [64, 64], extents: ["n", "m"] }:
 *   dispatch min(⌈n/64⌉, 65535) × min(⌈m/64⌉, 65535) workgroups (none when m or n is 0);
 *   `pass.hash` keys the pipeline cache; there are no overridable constants.
 * - `gemm`: the accumulation and, on the exact integer path, maxK: the caller must keep k ≤ maxK.
 *
 * Accumulation: f32 for real-valued operands (products and sums rounded to f32, in order of k,
 * the whole depth as one k block, so |C − C_exact| ≤ γ_{k+2}·(|α|·Σ|a||b| + |β||c|) as for the IR
 * GEMM with an f32 accumulator; a driver that fuses multiply-adds only removes roundings); exact
 * i32 for two integer formats (C ← α·f32(sum)·2^scale + β·C, bit for bit the IR GEMM's integer
 * path). α = 0 or k ≤ 0: C ← β·C without reading A or B (0 where β = 0). No f64 anywhere.
 * A declared accumulator (options.accumulator) sums as dsl/semantics/accumulate.ts defines it,
 * bit for bit: the k steps past the depth are not summed, each sum is nf_acc_add, Kahan and
 * promotion as the semantics say (the caller keeps k ≤ gemm.maxK = 2^20).
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { Accumulator } from "../../dsl/semantics/accumulate.ts";
import { describeGemm } from "../../codegen/lower/gemm/gemm.ts";
import { operandDecoder } from "../../codegen/lower/gemm/operand.ts";
import type { Kernel, Param } from "../../codegen/ir/nodes.ts";
import type { GemmSchedule } from "../../codegen/schedule.ts";
import { hashText, type CompiledWgslKernel, type CompiledWgslPass } from "./compile.ts";
import { accumulatorAddFunction, mergeFunction, operandFunction, renderGemmFunctions, scaleFunction, type GemmAccumulation } from "./gemm-functions.ts";
import { GEMM_TABLE_BINDING, GEMM_TILE_SIZE, renderGemmShader, WGSL_GEMM_TILE } from "./gemm-render.ts";
import type { TileLaunch } from "./kernel.ts";
import { packKernel } from "./pack.ts";
import { renderDeclarations, tableLayout, uniformParams } from "./render.ts";

export interface WgslGemmOptions {
  readonly a: ResolvedFormat | "f32";
  readonly b: ResolvedFormat | "f32";
  /** Kernel name (default "gemm"); must be an identifier. */
  readonly name?: string;
  /** A declared accumulator (lower/gemm/gemm.ts); absent: f32 accumulation in order of k. */
  readonly accumulator?: Accumulator;
}

/**
 * The shader's arithmetic in the GEMM lowering's terms (what decides results, schedule.ts): f32
 * accumulation, the whole depth in one k block (kc is the largest a schedule may say; the shader
 * has no k blocks at all), 4×4 register tiles. Used to describe the kernel and to state its bound.
 */
export const WGSL_GEMM_ALGORITHM: GemmSchedule = Object.freeze({
  mr: WGSL_GEMM_TILE.register,
  nr: WGSL_GEMM_TILE.register,
  kc: 2 ** 20,
  mc: GEMM_TILE_SIZE,
  nc: GEMM_TILE_SIZE,
  pack: false,
  accumulator: "f32",
});

/** What a caller needs beyond the calling convention. */
export interface WgslGemmInfo {
  readonly accumulation: GemmAccumulation;
  /** Integer path: the largest k whose i32 sums are exact (the caller must keep k ≤ maxK); null for f32. */
  readonly maxK: number | null;
  /** The operands' labels ("f32" or the format's name), for messages. */
  readonly a: string;
  readonly b: string;
}

/** A compiled GEMM: one tiled pass, the generic runner's data (see the file comment), and `gemm`. */
export interface CompiledWgslGemm extends CompiledWgslKernel {
  readonly passes: readonly [CompiledWgslPass & { readonly launch: TileLaunch }];
  readonly gemm: WgslGemmInfo;
}

/** Compiles the GEMM of these operands to one WGSL compute shader (pure: no device). Throws GemmUnsupportedError for scaled operands. */
export function compileWgslGemm(options: WgslGemmOptions): CompiledWgslGemm {
  const name = options.name ?? "gemm";
  const declared = options.accumulator;
  const desc = describeGemm({ a: options.a, b: options.b, schedule: WGSL_GEMM_ALGORITHM, name, ...(declared !== undefined ? { accumulator: declared } : {}) });
  if (desc.accumulation === "f64") throw new Error("WGSL GEMM: an f64 accumulator reached the WGSL target");
  const accumulation: GemmAccumulation = desc.accumulation;
  const a = operandDecoder("a", options.a);
  const b = operandDecoder("b", options.b);
  // The i32 sums of the whole depth stay in registers: the IR GEMM's scratch buffers have no use here.
  const scratch = new Set<string>(desc.scratch.map((s) => s.name));
  const params: readonly Param[] = desc.params.filter((p) => !scratch.has(p.name));
  const scaleLog2 = (a.integer?.scaleLog2 ?? 0) + (b.integer?.scaleLog2 ?? 0);
  const functions = renderGemmFunctions([
    operandFunction("a", a, accumulation), operandFunction("b", b, accumulation), mergeFunction(accumulation, scaleLog2), scaleFunction(),
    ...(declared !== undefined ? [accumulatorAddFunction(declared.format)] : []),
  ]);
  // The pass declares the shader's bindings: the parameters with narrow codes packed in u32 words, and the tables.
  const packing = packKernel({ name, params, tables: [], body: [] });
  const kernel: Kernel = { name, params: packing.kernel.params, tables: functions.tables, body: [] };
  const launch: TileLaunch = { kind: "tiles", workgroupSize: [WGSL_GEMM_TILE.threads, WGSL_GEMM_TILE.threads], tile: [GEMM_TILE_SIZE, GEMM_TILE_SIZE], extents: ["n", "m"] };
  const tableWords = kernel.tables.length === 0 ? 0 : tableLayout(kernel).words.length;
  const wgsl = renderGemmShader({
    name,
    accumulation,
    ...(declared !== undefined ? { declared: { compensated: declared.compensated, promoteEvery: declared.promoteEvery } } : {}),
    declarations: renderDeclarations(kernel, uniformParams({ kernel, launch }), GEMM_TABLE_BINDING),
    functions: functions.wgsl,
    tableWords,
  });
  return {
    name,
    params,
    passes: [{ kernel, launch, name, wgsl, hash: hashText(wgsl) }],
    scratch: [],
    packed: packing.packed,
    gemm: { accumulation, maxK: desc.maxK, a: a.label, b: b.label },
  };
}
