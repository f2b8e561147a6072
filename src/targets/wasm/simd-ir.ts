/**
 * The kernel IR as the wasm target sees it: nodes.ts plus the two things a vectorized loop needs
 * that nodes.ts does not express yet — a vector `load`/`store` (4 consecutive elements starting
 * at the scalar index) and `lanes` (a vector built from 4 scalars, e.g. a gather). Every scalar
 * Kernel is a SimdKernel, so the renderer takes either. Lane semantics are those of nodes.ts.
 */
import type {
  BinaryOp, CompareOp, ConvertOp, Param, ScalarType, StorageType, Table, UnaryOp, ValueType, VectorType,
} from "../../codegen/ir/nodes.ts";

export type Lanes4<T> = readonly [T, T, T, T];

export type SimdExpr =
  | { readonly kind: "const"; readonly type: ScalarType; readonly value: number }
  | { readonly kind: "ref"; readonly type: ValueType; readonly name: string }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly type: ValueType; readonly arg: SimdExpr }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly type: ValueType; readonly a: SimdExpr; readonly b: SimdExpr }
  /** `type` is the operand type; the result is bool (boolx4 for vectors). */
  | { readonly kind: "compare"; readonly op: CompareOp; readonly type: ValueType; readonly a: SimdExpr; readonly b: SimdExpr }
  | { readonly kind: "select"; readonly type: ValueType; readonly cond: SimdExpr; readonly then: SimdExpr; readonly else: SimdExpr }
  | { readonly kind: "convert"; readonly op: ConvertOp; readonly type: ValueType; readonly arg: SimdExpr }
  /** A vector `type` reads elements index … index+3. */
  | { readonly kind: "load"; readonly type: ValueType; readonly buffer: string; readonly index: SimdExpr }
  | { readonly kind: "lookup"; readonly type: ScalarType; readonly table: string; readonly index: SimdExpr }
  | { readonly kind: "splat"; readonly type: VectorType; readonly arg: SimdExpr }
  | { readonly kind: "extract"; readonly type: ScalarType; readonly lane: number; readonly arg: SimdExpr }
  /** The vector whose lane k is args[k] (scalars of the lane type). */
  | { readonly kind: "lanes"; readonly type: VectorType; readonly args: Lanes4<SimdExpr> }
  /**
   * a·b + c per lane, relaxed SIMD (f32x4.relaxed_madd): the engine may round the product or
   * not (fused), so it is |a·b + c − result| ≤ one f32 rounding of each step, never more. Only
   * in modules for engines that validate relaxed SIMD.
   */
  | { readonly kind: "madd"; readonly type: "f32x4"; readonly a: SimdExpr; readonly b: SimdExpr; readonly c: SimdExpr }
  /**
   * Lane k: lo(a_k)·lo(b_k) + hi(a_k)·hi(b_k), where lo and hi are the sign-extended low and high
   * 16 bits of the i32 lane, the sum wrapping like i32 add (i32x4.dot_i16x8_s, plain SIMD).
   */
  | { readonly kind: "dot"; readonly type: "i32x4"; readonly a: SimdExpr; readonly b: SimdExpr };

/** How a narrowStore turns 32-bit lanes into its elements (see narrowStore). */
export type Narrowing = "masked" | "unsigned" | "signed";

export type SimdStmt =
  | { readonly kind: "let"; readonly name: string; readonly value: SimdExpr }
  | { readonly kind: "var"; readonly name: string; readonly type: ValueType; readonly init: SimdExpr }
  | { readonly kind: "assign"; readonly name: string; readonly value: SimdExpr }
  /** A vector value writes elements index … index+3 (narrow storage truncates each lane). */
  | { readonly kind: "store"; readonly buffer: string; readonly index: SimdExpr; readonly value: SimdExpr }
  /**
   * 16 bytes of a u8/i8 (4 values) or u16 (2 values) buffer in one store: element index + 4m + l
   * takes lane l of values[m] (u32x4/i32x4), by `narrowing`:
   * - "masked": the lane's low bits (as `store` truncates);
   * - "unsigned": the lane saturated to [0, 2^bits − 1] — the truncation where lanes lie in that range;
   * - "signed": the lane saturated to [−2^(bits−1), 2^(bits−1) − 1], in two's complement.
   * With `signs` (one i32/u32 vector per value), each element's top bit is or'ed in from the sign
   * bit of the same lane of signs[m] (values then lie in [0, 2^(bits−1))): a float code's sign
   * taken from x's bits, by the saturating signed narrowing, which keeps every lane's sign.
   */
  | { readonly kind: "narrowStore"; readonly buffer: string; readonly index: SimdExpr; readonly values: readonly SimdExpr[]; readonly narrowing: Narrowing; readonly signs?: readonly SimdExpr[] }
  | { readonly kind: "for"; readonly index: string; readonly from: SimdExpr; readonly to: SimdExpr; readonly step: number; readonly body: readonly SimdStmt[] }
  | { readonly kind: "if"; readonly cond: SimdExpr; readonly then: readonly SimdStmt[]; readonly else: readonly SimdStmt[] };

export interface SimdKernel {
  readonly name: string;
  readonly params: readonly Param[];
  readonly tables: readonly Table[];
  readonly body: readonly SimdStmt[];
}

export interface SimdModule {
  readonly kernels: readonly SimdKernel[];
}

/** The type of the value an expression produces. */
export function simdTypeOf(e: SimdExpr): ValueType {
  if (e.kind === "compare") return isVector(e.type) ? "boolx4" : "bool";
  return e.type;
}

export function isVector(type: ValueType): type is VectorType {
  return type === "f32x4" || type === "i32x4" || type === "u32x4" || type === "boolx4";
}

/** The 4-lane vector type of a 32-bit scalar type (f64 has no 4-lane form here). */
export function vectorOf(type: ScalarType): VectorType {
  if (type === "f64") throw new Error("f64 has no 4-lane vector type");
  return `${type}x4`;
}

/** Bytes per element of a buffer's storage type. */
export function storageBytes(storage: StorageType): 1 | 2 | 4 {
  return storage === "u8" || storage === "i8" ? 1 : storage === "u16" ? 2 : 4;
}
