/**
 * The kernel IR: an immutable, typed tree, a readonly union tagged by `kind` that every consumer
 * matches exhaustively. Element code is branch-free (selects, not ifs) so a target can map it
 * lane-wise onto vectors; loops and mutable locals exist for reductions and GEMM schedules.
 *
 * Value semantics (the interpreter is their executable definition):
 * - f32 operations are IEEE binary32, round to nearest even, subnormals kept; no fused ops
 *   (division too: a target whose own division is looser, as WGSL's, computes it on the bits).
 * - i32/u32 arithmetic wraps modulo 2^32; shift counts are taken modulo 32; `shr` is arithmetic
 *   on i32 and logical on u32.
 * - f32 comparisons are ordered (false when either side is NaN; `ne` is true); min/max are only
 *   defined for non-NaN operands (lowering guards NaN with selects).
 * - The sign and payload of a NaN produced by arithmetic on a NaN are unspecified (engines and
 *   GPUs differ); kernels that must output a particular NaN build it from bits.
 * - f64 is optional (a target declares it in its TargetCapabilities; WGSL has none): IEEE
 *   binary64 under the f32 rules above (round to nearest even, ordered compares, min/max for
 *   non-NaN operands), scalar only, for add/sub/mul/div/min/max, neg/abs/floor/trunc/roundEven/
 *   sqrt, compares and selects; no buffers or tables hold it (values enter and leave by
 *   conversion). `f64.fromF32` and `f64.fromI32` are exact; `f32.fromF64` rounds to nearest
 *   even (beyond the f32 range → ±Inf). A product of two f32 values is exact in f64 (24 + 24
 *   significant bits ≤ 53, exponents within f64's normal range): a wide accumulator relies on it.
 */

export type ScalarType = "f32" | "f64" | "i32" | "u32" | "bool";
export type VectorType = "f32x4" | "i32x4" | "u32x4" | "boolx4";
export type ValueType = ScalarType | VectorType;
/** Element types of buffers; narrow integers load as u32/i32 and store truncated. */
export type StorageType = "f32" | "i32" | "u32" | "u16" | "u8" | "i8";

export type UnaryOp =
  | "neg"
  | "abs"
  | "not" // bitwise on integers, logical on bool
  | "clz" // u32 count of leading zeros (32 for 0)
  | "floor"
  | "trunc"
  | "roundEven"
  | "sqrt";

export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div" // f32, f64; i32 and u32 truncate (the divisor is never 0 in a kernel)
  | "min"
  | "max"
  | "and"
  | "or"
  | "xor"
  | "shl"
  | "shr";

export type CompareOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";

export type ConvertOp =
  | "f32.fromI32"
  | "f32.fromU32"
  | "i32.fromF32" // truncation toward zero; the operand must be in i32 range
  | "u32.fromF32" // truncation toward zero; the operand must be in u32 range
  | "i32.fromU32" // reinterpret the 32 bits
  | "u32.fromI32" // reinterpret the 32 bits
  | "u32.fromBool"
  | "u32.bitsOfF32"
  | "f32.fromBits"
  | "f64.fromF32" // exact
  | "f32.fromF64" // round to nearest even
  | "f64.fromI32"; // exact

export type Expr =
  | { readonly kind: "const"; readonly type: ScalarType; readonly value: number }
  | { readonly kind: "ref"; readonly type: ValueType; readonly name: string }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly type: ValueType; readonly arg: Expr }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly type: ValueType; readonly a: Expr; readonly b: Expr }
  /** `type` is the operand type; the result is bool (boolx4 for vectors). */
  | { readonly kind: "compare"; readonly op: CompareOp; readonly type: ValueType; readonly a: Expr; readonly b: Expr }
  | { readonly kind: "select"; readonly type: ValueType; readonly cond: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly kind: "convert"; readonly op: ConvertOp; readonly type: ValueType; readonly arg: Expr }
  | { readonly kind: "load"; readonly type: ScalarType; readonly buffer: string; readonly index: Expr }
  /** Read from a constant table declared by the kernel; the index must be in range. */
  | { readonly kind: "lookup"; readonly type: ScalarType; readonly table: string; readonly index: Expr }
  | { readonly kind: "splat"; readonly type: VectorType; readonly arg: Expr }
  | { readonly kind: "extract"; readonly type: ScalarType; readonly lane: number; readonly arg: Expr };

export type Stmt =
  /** Immutable binding, visible to the statements after it in the same block. */
  | { readonly kind: "let"; readonly name: string; readonly value: Expr }
  /** Mutable local. */
  | { readonly kind: "var"; readonly name: string; readonly type: ValueType; readonly init: Expr }
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr }
  | { readonly kind: "store"; readonly buffer: string; readonly index: Expr; readonly value: Expr }
  /** for (index = from; index < to; index += step), index is i32. */
  | { readonly kind: "for"; readonly index: string; readonly from: Expr; readonly to: Expr; readonly step: number; readonly body: readonly Stmt[] }
  | { readonly kind: "if"; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] };

export type Param =
  | { readonly kind: "buffer"; readonly name: string; readonly storage: StorageType; readonly access: "read" | "write" | "readwrite" }
  | { readonly kind: "scalar"; readonly name: string; readonly type: ScalarType };

export interface Table {
  readonly name: string;
  readonly storage: "f32" | "i32" | "u32";
  readonly values: readonly number[];
}

/** One kernel: a function of buffers and scalars. */
export interface Kernel {
  readonly name: string;
  readonly params: readonly Param[];
  readonly tables: readonly Table[];
  readonly body: readonly Stmt[];
}

/** The kernels compiled for one format, rendered together by each target. */
export interface KernelModule {
  readonly kernels: readonly Kernel[];
}

/** What a target's renderer supports beyond the core IR; it rejects kernels that use more. */
export interface TargetCapabilities {
  /** Scalar f64 values (JS and wasm: yes; WGSL: no). */
  readonly f64: boolean;
}

/** Whether these statements bind, compute or compare any value of scalar type `type`. */
/** Whether `test` holds for `e` or any expression inside it. */
export function anySubexpression(e: Expr, test: (node: Expr) => boolean): boolean {
  if (test(e)) return true;
  switch (e.kind) {
    case "const":
    case "ref":
      return false;
    case "unary":
    case "convert":
    case "splat":
    case "extract":
      return anySubexpression(e.arg, test);
    case "binary":
    case "compare":
      return anySubexpression(e.a, test) || anySubexpression(e.b, test);
    case "select":
      return anySubexpression(e.cond, test) || anySubexpression(e.then, test) || anySubexpression(e.else, test);
    case "load":
    case "lookup":
      return anySubexpression(e.index, test);
    default:
      return assertNever(e, "expression");
  }
}

export function usesType(stmts: readonly Stmt[], type: ScalarType): boolean {
  const expr = (e: Expr): boolean => anySubexpression(e, (node) => laneType(node.type) === type);
  return stmts.some((s) => {
    switch (s.kind) {
      case "let":
      case "assign":
        return expr(s.value);
      case "var":
        return laneType(s.type) === type || expr(s.init);
      case "store":
        return expr(s.index) || expr(s.value);
      case "for":
        return expr(s.from) || expr(s.to) || usesType(s.body, type);
      case "if":
        return expr(s.cond) || usesType(s.then, type) || usesType(s.else, type);
      default:
        return assertNever(s, "statement");
    }
  });
}

/** Throws, naming the kernel, unless every kernel of the module stays within the target's capabilities. */
export function checkCapabilities(module: KernelModule, target: string, capabilities: TargetCapabilities): void {
  if (capabilities.f64) return;
  for (const k of module.kernels) {
    if (k.params.some((p) => p.kind === "scalar" && p.type === "f64") || usesType(k.body, "f64"))
      throw new Error(`kernel ${k.name} uses f64 values, which the ${target} target does not have (lower it with f32 arithmetic, e.g. a GEMM schedule with accumulator "f32")`);
  }
}

/** The scalar type of a value type's lanes. */
export function laneType(type: ValueType): ScalarType {
  switch (type) {
    case "f32x4":
      return "f32";
    case "i32x4":
      return "i32";
    case "u32x4":
      return "u32";
    case "boolx4":
      return "bool";
    default:
      return type;
  }
}

/** The value type a load from a buffer of this storage type produces. */
export function loadType(storage: StorageType): ScalarType {
  return storage === "f32" ? "f32" : storage === "i32" || storage === "i8" ? "i32" : "u32";
}

/** Fails compilation (and type-checks exhaustiveness) for an impossible case. */
export function assertNever(value: never, what = "case"): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
