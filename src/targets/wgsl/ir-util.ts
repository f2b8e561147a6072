/** Small IR helpers for the WGSL target's passes: walking statements, comparing ranges, building loops. */
import { add, i32, mul } from "../../codegen/ir/build.ts";
import type { Expr, Stmt } from "../../codegen/ir/nodes.ts";

export type For = Stmt & { kind: "for" };

/** Calls `visit` on every expression of the statements (outermost first), recursing into blocks. */
export function eachExpr(stmts: readonly Stmt[], visit: (e: Expr) => void): void {
  const expr = (e: Expr): void => {
    visit(e);
    if (e.kind === "unary" || e.kind === "convert" || e.kind === "splat" || e.kind === "extract") expr(e.arg);
    else if (e.kind === "binary" || e.kind === "compare") {
      expr(e.a);
      expr(e.b);
    } else if (e.kind === "select") {
      expr(e.cond);
      expr(e.then);
      expr(e.else);
    } else if (e.kind === "load" || e.kind === "lookup") expr(e.index);
  };
  for (const s of stmts) {
    if (s.kind === "let" || s.kind === "assign") expr(s.value);
    else if (s.kind === "var") expr(s.init);
    else if (s.kind === "store") {
      expr(s.index);
      expr(s.value);
    } else if (s.kind === "for") {
      expr(s.from);
      expr(s.to);
      eachExpr(s.body, visit);
    } else {
      expr(s.cond);
      eachExpr(s.then, visit);
      eachExpr(s.else, visit);
    }
  }
}

/** Calls `visit` on every statement, recursing into blocks. */
export function eachStmt(stmts: readonly Stmt[], visit: (s: Stmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.kind === "for") eachStmt(s.body, visit);
    else if (s.kind === "if") {
      eachStmt(s.then, visit);
      eachStmt(s.else, visit);
    }
  }
}

/** Whether an expression reads the name (directly). */
export function reads(e: Expr, name: string): boolean {
  let found = false;
  eachExpr([{ kind: "let", name: "", value: e }], (x) => {
    if (x.kind === "ref" && x.name === name) found = true;
  });
  return found;
}

export const key = (e: Expr) => JSON.stringify(e);
export const isRef = (e: Expr, name: string) => e.kind === "ref" && e.name === name;

/** Substitutes the lets of `block` into `e` (so equal ranges compare equal). */
export function resolver(block: readonly Stmt[]): (e: Expr) => Expr {
  const lets = new Map(block.flatMap((s) => (s.kind === "let" ? [[s.name, s.value] as const] : [])));
  const resolve = (e: Expr): Expr => {
    switch (e.kind) {
      case "ref": {
        const v = lets.get(e.name);
        return v === undefined ? e : resolve(v);
      }
      case "unary":
      case "convert":
      case "splat":
      case "extract":
        return { ...e, arg: resolve(e.arg) } as Expr;
      case "binary":
      case "compare":
        return { ...e, a: resolve(e.a), b: resolve(e.b) };
      case "select":
        return { ...e, cond: resolve(e.cond), then: resolve(e.then), else: resolve(e.else) };
      case "load":
      case "lookup":
        return { ...e, index: resolve(e.index) };
      default:
        return e;
    }
  };
  return resolve;
}

/** Whether `e` reads only constants and the names in `outside` (no loads). */
export function invariant(e: Expr, outside: ReadonlySet<string>): boolean {
  let ok = true;
  eachExpr([{ kind: "let", name: "", value: e }], (x) => {
    if ((x.kind === "ref" && !outside.has(x.name)) || x.kind === "load") ok = false;
  });
  return ok;
}

export const letS = (name: string, value: Expr): Stmt => ({ kind: "let", name, value });
export const ifS = (cond: Expr, then: readonly Stmt[]): Stmt => ({ kind: "if", cond, then, else: [] });
/** for (index = 0; index < to; index++) body. */
export const forS = (index: string, to: Expr, body: readonly Stmt[]): Stmt => ({ kind: "for", index, from: i32(0), to, step: 1, body });

/** base + t·step, without additions of 0 and multiplications by 1 (the rendered WGSL stays readable). */
export function affine(base: Expr, t: Expr, step: number): Expr {
  const scaled = step === 1 ? t : mul(t, i32(step));
  return base.kind === "const" && base.value === 0 ? scaled : add(base, scaled);
}
