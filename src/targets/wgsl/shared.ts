/**
 * Value numbering for the WGSL renderer's one defence against the driver's optimizer. WGSL has
 * no `precise`, and Mesa applies its inexact algebraic rewrites to shader arithmetic when the
 * same value feeds both operands: x − x → 0 (NaN for ±∞), −a + (a + b) → b, a·b + a·c →
 * a·(b + c) (another rounding). The renderer launders one operand of an f32 operation whose
 * operands share a value (see `sharesValue`), which no rewrite can see through. Values are
 * numbered as the driver's CSE sees them: lets resolved, equal computations equal.
 */
import type { Expr, Kernel, Stmt } from "../../codegen/ir/nodes.ts";

/** How deep under each operand a shared value still matches one of Mesa's patterns (they are ≤ 2 deep). */
const DEPTH = 3;

export class ValueNumbers {
  private readonly lets = new Map<string, Expr>();
  private readonly byName = new Map<string, number>();
  private readonly memo = new WeakMap<Expr, number>();
  private readonly interned = new Map<string, number>();
  private readonly children: number[][] = [];
  private readonly constant: boolean[] = [];

  constructor(kernel: Kernel) {
    const walk = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (s.kind === "let") this.lets.set(s.name, s.value);
        else if (s.kind === "for") walk(s.body);
        else if (s.kind === "if") {
          walk(s.then);
          walk(s.else);
        }
      }
    };
    walk(kernel.body);
  }

  private intern(key: string, kids: number[], constant: boolean): number {
    let id = this.interned.get(key);
    if (id === undefined) {
      id = this.children.length;
      this.interned.set(key, id);
      this.children.push(kids);
      this.constant.push(constant);
    }
    return id;
  }

  /** The value number of an expression (lets resolved; vars, parameters and loop indices are leaves). */
  id(e: Expr): number {
    const cached = this.memo.get(e);
    if (cached !== undefined) return cached;
    let id: number;
    switch (e.kind) {
      case "const":
        id = this.intern(`c|${e.type}|${Object.is(e.value, -0) ? "-0" : e.value}`, [], true);
        break;
      case "ref": {
        const value = this.lets.get(e.name);
        if (value === undefined) id = this.intern(`r|${e.name}`, [], false);
        else {
          const known = this.byName.get(e.name);
          id = known ?? this.id(value);
          this.byName.set(e.name, id);
        }
        break;
      }
      case "unary":
      case "convert":
      case "splat":
      case "extract": {
        const kids = [this.id(e.arg)];
        id = this.intern(`${e.kind}|${"op" in e ? e.op : ""}|${e.type}|${kids}`, kids, false);
        break;
      }
      case "binary":
      case "compare": {
        const kids = [this.id(e.a), this.id(e.b)];
        id = this.intern(`${e.kind}|${e.op}|${e.type}|${kids}`, kids, false);
        break;
      }
      case "select": {
        const kids = [this.id(e.cond), this.id(e.then), this.id(e.else)];
        id = this.intern(`select|${e.type}|${kids}`, kids, false);
        break;
      }
      case "load":
      case "lookup": {
        const kids = [this.id(e.index)];
        id = this.intern(`${e.kind}|${e.kind === "load" ? e.buffer : e.table}|${e.type}|${kids}`, kids, false);
        break;
      }
    }
    this.memo.set(e, id);
    return id;
  }

  private reach(root: number, visit: (id: number) => boolean): boolean {
    let level = [root];
    for (let d = 0; d <= DEPTH && level.length > 0; d++) {
      for (const id of level) if (!this.constant[id] && visit(id)) return true;
      level = level.flatMap((id) => this.children[id]);
    }
    return false;
  }

  /** Whether `a` and `b` have a non-constant value in common within a few levels. */
  sharesValue(a: Expr, b: Expr): boolean {
    const seen = new Set<number>();
    this.reach(this.id(a), (id) => {
      seen.add(id);
      return false;
    });
    return this.reach(this.id(b), (id) => seen.has(id));
  }
}
