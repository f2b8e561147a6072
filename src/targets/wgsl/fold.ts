/**
 * Constant folding, an IR → IR pass the WGSL target needs for correctness, not speed: WGSL
 * evaluates an operation on constants at shader creation and rejects the shader when the result
 * is NaN, infinite or overflows, whereas the IR defines those results. Each operation whose
 * operands are all constants is replaced by its value, computed by the IR interpreter itself,
 * so the rendered shader only ever holds literals (see literals.ts for non-finite ones).
 */
import { interpret } from "../../codegen/ir/interpret.ts";
import { bitsOf, f32, fromBits, typeOf, u32, xor } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, ScalarType, Stmt } from "../../codegen/ir/nodes.ts";

const isConst = (e: Expr): e is Expr & { kind: "const" } => e.kind === "const";

/** The value of an operation on constants, as the interpreter defines it. */
function evaluate(e: Expr): Expr {
  const type = typeOf(e) as ScalarType;
  const out = type === "f32" ? new Float32Array(1) : type === "i32" ? new Int32Array(1) : new Uint32Array(1);
  const probe: Kernel = {
    name: "fold",
    params: [{ kind: "buffer", name: "out", storage: type === "f32" ? "f32" : type === "i32" ? "i32" : "u32", access: "write" }],
    tables: [],
    body: [{ kind: "store", buffer: "out", index: { kind: "const", type: "i32", value: 0 }, value: e }],
  };
  interpret(probe, { out });
  if (type === "f32" && Number.isNaN(out[0])) return nanWithBits(new Uint32Array(out.buffer)[0]);
  return { kind: "const", type, value: out[0] };
}

/**
 * A NaN with exactly these bits (a NaN code's decoded value carries its sign): an f32 constant
 * keeps no sign or payload (literals.ts emits the quiet NaN), so the bits are made at run time
 * from that one, out of const-expressions as literals.ts requires.
 */
function nanWithBits(bits: number): Expr {
  const quietBits = 0x7fc00000;
  const quiet = bitsOf(f32(Number.NaN));
  return fromBits(bits === quietBits ? quiet : xor(quiet, u32((bits ^ quietBits) >>> 0)));
}

/** An expression with every all-constant operation replaced by its value. */
export function foldExpr(e: Expr): Expr {
  switch (e.kind) {
    case "const":
    case "ref":
      return e;
    case "unary":
    case "convert": {
      const arg = foldExpr(e.arg);
      const next = arg === e.arg ? e : { ...e, arg };
      return isConst(arg) && !e.type.endsWith("x4") ? evaluate(next) : next;
    }
    case "binary":
    case "compare": {
      const a = foldExpr(e.a);
      const b = foldExpr(e.b);
      const next = a === e.a && b === e.b ? e : { ...e, a, b };
      return isConst(a) && isConst(b) && !e.type.endsWith("x4") ? evaluate(next) : next;
    }
    case "select": {
      const cond = foldExpr(e.cond);
      const then = foldExpr(e.then);
      const otherwise = foldExpr(e.else);
      const next = cond === e.cond && then === e.then && otherwise === e.else ? e : { ...e, cond, then, else: otherwise };
      return isConst(cond) && isConst(then) && isConst(otherwise) && !e.type.endsWith("x4") ? evaluate(next) : next;
    }
    case "load":
    case "lookup": {
      const index = foldExpr(e.index);
      return index === e.index ? e : { ...e, index };
    }
    case "splat":
    case "extract": {
      const arg = foldExpr(e.arg);
      return arg === e.arg ? e : { ...e, arg };
    }
  }
}

function foldStmts(stmts: readonly Stmt[]): Stmt[] {
  return stmts.map((s): Stmt => {
    switch (s.kind) {
      case "let":
        return { ...s, value: foldExpr(s.value) };
      case "var":
        return { ...s, init: foldExpr(s.init) };
      case "assign":
        return { ...s, value: foldExpr(s.value) };
      case "store":
        return { ...s, index: foldExpr(s.index), value: foldExpr(s.value) };
      case "for":
        return { ...s, from: foldExpr(s.from), to: foldExpr(s.to), body: foldStmts(s.body) };
      case "if":
        return { ...s, cond: foldExpr(s.cond), then: foldStmts(s.then), else: foldStmts(s.else) };
    }
  });
}

/** The kernel with its constant operations folded. */
export function foldKernel(kernel: Kernel): Kernel {
  return { ...kernel, body: foldStmts(kernel.body) };
}
