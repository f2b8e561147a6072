/**
 * The per-element pieces of the WGSL GEMM, built as IR and put through the WGSL target's own
 * passes (capability check, pack.ts, fold.ts) and renderer into functions the hand-laid tiled
 * shader (gemm-render.ts) calls:
 *
 * - nf_operand_a / nf_operand_b(index, row, col): one element of an operand, as the GEMM
 *   lowering's OperandDecoder reads it (lower/gemm/operand.ts): an f32 load, a decode-table
 *   lookup for codes of ≤ 8 bits, the format's decode expression for wider codes, or the
 *   sign-extended integer on the exact i32 path; narrow codes are unpacked from their u32
 *   words by pack.ts as in every WGSL kernel;
 * - nf_merge(acc, index): the accumulator merged into C[index] by lower/gemm/tile.ts's merge of
 *   a single k block (C ← α·v + β·C, C not read when β = 0), v = acc or, on the integer path,
 *   f32(acc)·2^scaleLog2;
 * - nf_scale_c(index): C[index] when α = 0 or k ≤ 0 (C ← β·C, 0 when β = 0), as gemm.ts lowers it;
 * - nf_acc_add(x, y): a declared accumulator's sum acc(x + y), rounded once to its format
 *   (lower/gemm/accumulator.ts).
 *
 * Nothing here names a format: every format-specific line comes from the decoder's IR.
 */
import { blockMerge, integerToF32, storeMerged } from "../../codegen/lower/gemm/tile.ts";
import { lowerAccumulatorAdd } from "../../codegen/lower/gemm/accumulator.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { GemmUnsupportedError, type OperandDecoder } from "../../codegen/lower/gemm/operand.ts";
import { bool, eq, f32, i32, kernel, load, mul, ref, select } from "../../codegen/ir/build.ts";
import { checkCapabilities, type Kernel, type Param, type Table } from "../../codegen/ir/nodes.ts";
import { WGSL_CAPABILITIES } from "./compile.ts";
import { foldKernel } from "./fold.ts";
import { packKernel } from "./pack.ts";
import { renderWgslFunction } from "./render.ts";

/** A function of the shader: its WGSL name, its IR (a body ending in the store of its result) and its arguments. */
export interface GemmFunction {
  readonly name: string;
  readonly kernel: Kernel;
  readonly args: readonly string[];
}

/** The accumulator type: f32, or i32 for the exact integer path. */
export type GemmAccumulation = "f32" | "i32";

const i32Param = (name: string): Param => ({ kind: "scalar", name, type: "i32" });
const RESULT = "result";

/** Reads element `index` (stored at row, col) of operand `which` with its decoder, as the accumulation multiplies it. */
export function operandFunction(which: "a" | "b", decoder: OperandDecoder, accumulation: GemmAccumulation): GemmFunction {
  // Metadata buffers would be bindings this shader does not lay out: scaled operands stay on the IR GEMM for now.
  if (decoder.extraParams.length > 0)
    throw new GemmUnsupportedError(which, decoder.label, `the WGSL GEMM does not bind operand metadata (${decoder.extraParams.map((p) => p.name).join(", ")}) yet; dequantize the operand to f32 first`);
  const params: Param[] = [
    { kind: "buffer", name: which, storage: decoder.storage, access: "read" },
    { kind: "buffer", name: RESULT, storage: accumulation, access: "write" },
    i32Param("index"),
    i32Param("row"),
    i32Param("col"),
  ];
  const body = kernel(`gemm_operand_${which}`, params, (b) => {
    const reader = decoder.bind(b, { data: which, extra: (local) => `${which}_${local}` });
    const site = { index: ref("i32", "index"), storedRow: ref("i32", "row"), storedCol: ref("i32", "col") };
    b.store(RESULT, i32(0), accumulation === "i32" ? reader.integer(b, site) : reader.value(b, site));
  });
  return { name: `nf_operand_${which}`, kernel: body, args: ["index", "row", "col"] };
}

/** C[index] merged with the accumulator (α, β from the uniforms); `scaleLog2` is the integer path's product scale. */
export function mergeFunction(accumulation: GemmAccumulation, scaleLog2: number): GemmFunction {
  const params: Param[] = [
    { kind: "buffer", name: "c", storage: "f32", access: "readwrite" },
    { kind: "scalar", name: "alpha", type: "f32" },
    { kind: "scalar", name: "beta", type: "f32" },
    { kind: "scalar", name: "acc", type: accumulation },
    i32Param("index"),
  ];
  const body = kernel("gemm_merge", params, (b) => {
    const acc = ref(accumulation, "acc");
    const value = accumulation === "i32" ? integerToF32(b, acc, scaleLog2) : acc;
    // The whole depth is one k block: the first block's merge.
    storeMerged(b, "c", ref("i32", "index"), value, blockMerge(b, ref("f32", "alpha"), ref("f32", "beta"), bool(true)));
  });
  return { name: "nf_merge", kernel: body, args: ["acc", "index"] };
}

/** C[index] when the product is skipped (α = 0 or k ≤ 0): β·C, or 0 when β = 0 so NaNs in C are ignored (lower/gemm/gemm.ts). */
export function scaleFunction(): GemmFunction {
  const params: Param[] = [
    { kind: "buffer", name: "c", storage: "f32", access: "readwrite" },
    { kind: "scalar", name: "beta", type: "f32" },
    i32Param("index"),
  ];
  const body = kernel("gemm_scale_c", params, (b) => {
    const beta = ref("f32", "beta");
    const index = ref("i32", "index");
    b.store("c", index, select(eq(beta, f32(0)), f32(0), mul(beta, load("f32", "c", index))));
  });
  return { name: "nf_scale_c", kernel: body, args: ["index"] };
}

/** acc(x + y) of a declared accumulator's format (x, y and the result f32), in integer arithmetic even for fp32, so no shader compiler folds or fuses it. */
export function accumulatorAddFunction(format: ResolvedFormat): GemmFunction {
  const params: Param[] = [
    { kind: "buffer", name: RESULT, storage: "f32", access: "write" },
    { kind: "scalar", name: "x", type: "f32" },
    { kind: "scalar", name: "y", type: "f32" },
  ];
  const body = kernel("gemm_acc_add", params, (b) => b.store(RESULT, i32(0), lowerAccumulatorAdd(b, format, ref("f32", "x"), ref("f32", "y"), true)));
  return { name: "nf_acc_add", kernel: body, args: ["x", "y"] };
}

/** The functions' WGSL, rendered against one table layout (the union of their tables, which the shader binds once). */
export function renderGemmFunctions(functions: readonly GemmFunction[]): { readonly wgsl: string; readonly tables: readonly Table[] } {
  const lowered = functions.map((f) => {
    checkCapabilities({ kernels: [f.kernel] }, "WGSL", WGSL_CAPABILITIES);
    return { ...f, kernel: foldKernel(packKernel(f.kernel).kernel) };
  });
  // Tables are named by content (lower/element.ts): the same decode table serves both operands.
  const tables = new Map<string, Table>();
  for (const f of lowered) for (const t of f.kernel.tables) tables.set(t.name, t);
  const all = [...tables.values()];
  return { wgsl: lowered.map((f) => renderWgslFunction(f.name, { ...f.kernel, tables: all }, f.args)).join("\n\n"), tables: all };
}
