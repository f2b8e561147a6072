/**
 * Traversals of the wasm SIMD IR used by its passes: visiting and substituting expressions,
 * the expressions of a statement, every statement of a block, dropping unread lets, the lets a
 * pass may look through, and integer constants.
 */
import { intBits } from "./literals.ts";
import type { SimdExpr, SimdStmt } from "./simd-ir.ts";

/** Calls `visit` on every subexpression (pre-order). */
export function walk(e: SimdExpr, visit: (x: SimdExpr) => void): void {
  visit(e);
  switch (e.kind) {
    case "const":
    case "ref":
      return;
    case "unary":
    case "convert":
    case "splat":
    case "extract":
      return walk(e.arg, visit);
    case "binary":
    case "compare":
      walk(e.a, visit);
      return walk(e.b, visit);
    case "select":
      walk(e.cond, visit);
      walk(e.then, visit);
      return walk(e.else, visit);
    case "load":
    case "lookup":
      return walk(e.index, visit);
    case "lanes":
      return e.args.forEach((a) => walk(a, visit));
    case "madd":
      walk(e.a, visit);
      walk(e.b, visit);
      return walk(e.c, visit);
    case "dot":
      walk(e.a, visit);
      return walk(e.b, visit);
  }
}

/** `e` with refs replaced by `f` (returning undefined keeps a ref). */
export function substitute(e: SimdExpr, f: (name: string) => SimdExpr | undefined): SimdExpr {
  const s = (x: SimdExpr) => substitute(x, f);
  switch (e.kind) {
    case "const":
      return e;
    case "ref":
      return f(e.name) ?? e;
    case "unary":
    case "convert":
    case "splat":
    case "extract":
      return { ...e, arg: s(e.arg) } as SimdExpr;
    case "binary":
    case "compare":
      return { ...e, a: s(e.a), b: s(e.b) };
    case "select":
      return { ...e, cond: s(e.cond), then: s(e.then), else: s(e.else) };
    case "load":
    case "lookup":
      return { ...e, index: s(e.index) } as SimdExpr;
    case "lanes":
      return { ...e, args: [s(e.args[0]), s(e.args[1]), s(e.args[2]), s(e.args[3])] };
    case "madd":
      return { ...e, a: s(e.a), b: s(e.b), c: s(e.c) };
    case "dot":
      return { ...e, a: s(e.a), b: s(e.b) };
  }
}

export function substituteStmts(stmts: readonly SimdStmt[], f: (name: string) => SimdExpr | undefined): SimdStmt[] {
  const s = (e: SimdExpr) => substitute(e, f);
  return stmts.map((st): SimdStmt => {
    switch (st.kind) {
      case "let":
      case "assign":
        return { ...st, value: s(st.value) };
      case "var":
        return { ...st, init: s(st.init) };
      case "store":
        return { ...st, index: s(st.index), value: s(st.value) };
      case "narrowStore":
        return { ...st, index: s(st.index), values: st.values.map(s), ...(st.signs === undefined ? {} : { signs: st.signs.map(s) }) };
      case "for":
        return { ...st, from: s(st.from), to: s(st.to), body: substituteStmts(st.body, f) };
      case "if":
        return { ...st, cond: s(st.cond), then: substituteStmts(st.then, f), else: substituteStmts(st.else, f) };
    }
  });
}

/** Every expression directly in a statement (not in nested blocks). */
export function exprsOf(st: SimdStmt): SimdExpr[] {
  switch (st.kind) {
    case "let":
    case "assign":
      return [st.value];
    case "var":
      return [st.init];
    case "store":
      return [st.index, st.value];
    case "narrowStore":
      return [st.index, ...st.values, ...(st.signs ?? [])];
    case "for":
      return [st.from, st.to];
    case "if":
      return [st.cond];
  }
}

export function forEachStmt(stmts: readonly SimdStmt[], visit: (st: SimdStmt) => void): void {
  for (const st of stmts) {
    visit(st);
    if (st.kind === "for") forEachStmt(st.body, visit);
    else if (st.kind === "if") {
      forEachStmt(st.then, visit);
      forEachStmt(st.else, visit);
    }
  }
}

/** Whether a statement (nested blocks included) reads any of `names`. */
export function readsAny(st: SimdStmt, names: ReadonlySet<string>): boolean {
  let found = false;
  forEachStmt([st], (s) => {
    for (const e of exprsOf(s)) walk(e, (x) => {
      if (x.kind === "ref" && names.has(x.name)) found = true;
    });
  });
  return found;
}

/** Drops lets of this block that nothing reads any more (the scalar leaves a group replaced). */
export function deadLets(stmts: readonly SimdStmt[]): SimdStmt[] {
  let out = [...stmts];
  for (;;) {
    const used = new Set<string>();
    forEachStmt(out, (st) => {
      for (const e of exprsOf(st)) walk(e, (x) => {
        if (x.kind === "ref") used.add(x.name);
      });
      if (st.kind === "assign") used.add(st.name);
    });
    const next = out.filter((st) => st.kind !== "let" || used.has(st.name));
    if (next.length === out.length) return out;
    out = next;
  }
}

/**
 * Lets bound exactly once in the kernel, by name (immutable values the bound analysis may look
 * through); a name bound twice is left out.
 */
export function singleLets(stmts: readonly SimdStmt[]): Map<string, SimdExpr> {
  const lets = new Map<string, SimdExpr>();
  const twice = new Set<string>();
  forEachStmt(stmts, (st) => {
    if (st.kind !== "let" && st.kind !== "var") return;
    if (lets.has(st.name) || st.kind === "var") twice.add(st.name);
    else lets.set(st.name, st.value);
  });
  for (const name of twice) lets.delete(name);
  return lets;
}

/** The 32 bits of an integer constant (or a splat of one) as a signed or an unsigned number, or null. */
export function constantOf(e: SimdExpr, unsigned: boolean): number | null {
  const c = e.kind === "splat" ? e.arg : e;
  if (c.kind !== "const" || c.type === "f32" || c.type === "f64" || c.type === "bool") return null;
  const bits = intBits(c.type, c.value);
  return unsigned ? bits >>> 0 : bits | 0;
}
