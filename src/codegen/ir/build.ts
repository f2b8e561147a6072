/**
 * Constructors for IR nodes (pure functions that infer result types) and a Builder that collects
 * statements with fresh names. Lowering code reads like the arithmetic it emits.
 */
import type { BinaryOp, CompareOp, ConvertOp, Expr, Kernel, Param, ScalarType, Stmt, Table, UnaryOp, ValueType } from "./nodes.ts";

/** The type of the value an expression produces. */
export function typeOf(e: Expr): ValueType {
  if (e.kind === "compare") return e.type.endsWith("x4") ? "boolx4" : "bool";
  return e.type;
}

export const f32 = (value: number): Expr => ({ kind: "const", type: "f32", value: Math.fround(value) });
/** An f64 constant (an optional type: see TargetCapabilities). */
export const f64 = (value: number): Expr => ({ kind: "const", type: "f64", value });
export const i32 = (value: number): Expr => ({ kind: "const", type: "i32", value: value | 0 });
export const u32 = (value: number): Expr => ({ kind: "const", type: "u32", value: value >>> 0 });
export const bool = (value: boolean): Expr => ({ kind: "const", type: "bool", value: value ? 1 : 0 });

const unary = (op: UnaryOp) => (arg: Expr): Expr => ({ kind: "unary", op, type: typeOf(arg), arg });
export const neg = unary("neg");
export const abs = unary("abs");
export const not = unary("not");
export const clz = unary("clz");
export const floor = unary("floor");
export const trunc = unary("trunc");
export const roundEven = unary("roundEven");
export const sqrt = unary("sqrt");

const binary = (op: BinaryOp) => (a: Expr, b: Expr): Expr => {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta !== tb) throw new Error(`IR type mismatch in ${op}: ${ta} vs ${tb}`);
  return { kind: "binary", op, type: ta, a, b };
};
export const add = binary("add");
export const sub = binary("sub");
export const mul = binary("mul");
export const div = binary("div");
export const min = binary("min");
export const max = binary("max");
export const and = binary("and");
export const or = binary("or");
export const xor = binary("xor");
export const shl = binary("shl");
export const shr = binary("shr");

const compare = (op: CompareOp) => (a: Expr, b: Expr): Expr => {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) throw new Error(`IR type mismatch in ${op}: ${ta} vs ${typeOf(b)}`);
  return { kind: "compare", op, type: ta, a, b };
};
export const eq = compare("eq");
export const ne = compare("ne");
export const lt = compare("lt");
export const le = compare("le");
export const gt = compare("gt");
export const ge = compare("ge");

/** cond ? then : otherwise, evaluated branch-free (both sides must be safe to evaluate). */
export function select(cond: Expr, then: Expr, otherwise: Expr): Expr {
  const t = typeOf(then);
  if (t !== typeOf(otherwise)) throw new Error(`IR select arms differ: ${t} vs ${typeOf(otherwise)}`);
  return { kind: "select", type: t, cond, then, else: otherwise };
}

const RESULT: Record<ConvertOp, ScalarType> = {
  "f32.fromI32": "f32",
  "f32.fromU32": "f32",
  "i32.fromF32": "i32",
  "u32.fromF32": "u32",
  "i32.fromU32": "i32",
  "u32.fromI32": "u32",
  "u32.fromBool": "u32",
  "u32.bitsOfF32": "u32",
  "f32.fromBits": "f32",
  "f64.fromF32": "f64",
  "f32.fromF64": "f32",
  "f64.fromI32": "f64",
};
/** A conversion between scalar types (see ConvertOp for which are exact). */
export function convert(op: ConvertOp, arg: Expr): Expr {
  return { kind: "convert", op, type: RESULT[op], arg };
}
export const bitsOf = (x: Expr) => convert("u32.bitsOfF32", x);
export const fromBits = (x: Expr) => convert("f32.fromBits", x);
export const asI32 = (x: Expr) => (typeOf(x) === "i32" ? x : convert("i32.fromU32", x));
/** The f64 value of an f32 or i32 (exact); an f64 is returned as is. */
export function widen(x: Expr): Expr {
  const t = typeOf(x);
  if (t === "f64") return x;
  if (t === "f32") return convert("f64.fromF32", x);
  if (t === "i32") return convert("f64.fromI32", x);
  throw new Error(`IR: no exact f64 conversion from ${t}`);
}
export const asU32 = (x: Expr) => (typeOf(x) === "u32" ? x : typeOf(x) === "bool" ? convert("u32.fromBool", x) : convert("u32.fromI32", x));

export const load = (type: ScalarType, buffer: string, index: Expr): Expr => ({ kind: "load", type, buffer, index });
export const lookup = (type: ScalarType, table: string, index: Expr): Expr => ({ kind: "lookup", type, table, index });
export const ref = (type: ValueType, name: string): Expr => ({ kind: "ref", type, name });

/** Per-kernel state shared by all its blocks: unique names and the constant tables used. */
export class KernelContext {
  private counter = 0;
  readonly tables = new Map<string, Table>();
  fresh(hint: string): string {
    return `${hint.replace(/[^A-Za-z0-9_]/g, "_")}_${this.counter++}`;
  }
  /** Declares a constant table once (by name) and returns a lookup into it. */
  table(name: string, storage: Table["storage"], values: () => readonly number[], index: Expr): Expr {
    if (!this.tables.has(name)) this.tables.set(name, { name, storage, values: Object.freeze([...values()]) });
    return lookup(storage, name, index);
  }
}

/** Collects the statements of one block. */
export class Builder {
  private readonly stmts: Stmt[] = [];
  constructor(readonly names: KernelContext = new KernelContext()) {}

  /** Binds a value to a fresh immutable name and returns a reference to it. */
  let(hint: string, value: Expr): Expr {
    if (value.kind === "const" || value.kind === "ref") return value;
    const name = this.names.fresh(hint);
    this.stmts.push({ kind: "let", name, value });
    return ref(typeOf(value), name);
  }

  /** A mutable local: its reference and a setter that appends an assignment. */
  var(hint: string, init: Expr): { ref: Expr; set: (value: Expr) => void; name: string } {
    const name = this.names.fresh(hint);
    const type = typeOf(init);
    this.stmts.push({ kind: "var", name, type, init });
    return { ref: ref(type, name), set: (value) => this.stmts.push({ kind: "assign", name, value }), name };
  }

  /** Assigns to a mutable local declared in an enclosing block. */
  assign(name: string, value: Expr): void {
    this.stmts.push({ kind: "assign", name, value });
  }

  store(buffer: string, index: Expr, value: Expr): void {
    this.stmts.push({ kind: "store", buffer, index, value });
  }

  /** for (i = from; i < to; i += step) body(i). */
  for(hint: string, from: Expr, to: Expr, body: (index: Expr, inner: Builder) => void, step = 1): void {
    const index = this.names.fresh(hint);
    const inner = new Builder(this.names);
    body(ref("i32", index), inner);
    this.stmts.push({ kind: "for", index, from, to, step, body: inner.build() });
  }

  if(cond: Expr, then: (inner: Builder) => void, otherwise?: (inner: Builder) => void): void {
    const a = new Builder(this.names);
    then(a);
    const b = new Builder(this.names);
    otherwise?.(b);
    this.stmts.push({ kind: "if", cond, then: a.build(), else: b.build() });
  }

  build(): readonly Stmt[] {
    return Object.freeze([...this.stmts]);
  }
}

/** Builds a kernel from its parameters and a body-building function (tables are collected). */
export function kernel(name: string, params: readonly Param[], body: (b: Builder) => void): Kernel {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid kernel name ${JSON.stringify(name)}`);
  const context = new KernelContext();
  const b = new Builder(context);
  body(b);
  return deepFreeze({ name, params, tables: [...context.tables.values()], body: b.build() });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
