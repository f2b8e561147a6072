/**
 * An independent check that a posit result is the exact value rounded as the 2022 standard says,
 * without rounding anything: the posit⟨n+1, es⟩ codes 2s−1 and 2s+1 (s the result's signed code)
 * are exactly the tie points between the result and its neighbours, so the exact value must lie
 * between them, on a tie only when s is even; 0 only for an exact 0; ±maxpos and ±minpos own
 * everything beyond them (but not 0).
 */
import { addExact, negateExact, positToExact, type ExactValue, type PositShape } from "../../src/dsl/semantics/posit-arith.ts";

/** Sign of x − y for exact finite-or-zero values. */
export function compareExact(x: ExactValue, y: ExactValue): number {
  const d = addExact(x, negateExact(y));
  if (d.kind === "nar") throw new Error("compareExact: NaR");
  return d.kind === "zero" ? 0 : d.negative ? -1 : 1;
}

const toSigned = (code: number, n: number) => (code >= 2 ** (n - 1) ? code - 2 ** n : code);
const toUnsigned = (s: number, n: number) => (s < 0 ? s + 2 ** n : s);

/**
 * A real result known only by comparison: its sign and, for any exact t, the sign of (result − t).
 * Lets quotients and square roots be checked without computing them.
 */
export type Target = { readonly kind: "zero" } | { readonly kind: "nar" } | { readonly kind: "real"; readonly negative: boolean; readonly compare: (t: ExactValue) => number };

/** The target of an exact value. */
export function exactTarget(x: ExactValue): Target {
  return x.kind === "finite" ? { kind: "real", negative: x.negative, compare: (t) => compareExact(x, t) } : x;
}

/** Null when `code` is the correct rounding of `exact` (NaR only for NaR), else why not. */
export function roundingViolation(shape: PositShape, exact: Target, code: number): string | null {
  const { n, es } = shape;
  const nar = 2 ** (n - 1);
  if (exact.kind === "nar") return code === nar ? null : `expected NaR, got ${code}`;
  if (code === nar) return "NaR for a real value";
  if (exact.kind === "zero") return code === 0 ? null : `expected 0, got ${code}`;
  if (code === 0) return "0 for a nonzero value";
  const s = toSigned(code, n);
  const wide: PositShape = { n: n + 1, es };
  const at = (t: number) => positToExact(wide, toUnsigned(t, n + 1));
  const maxpos = nar - 1;
  // Below: tie point 2s−1 unless s is −maxpos (nothing below) or minpos (only 0 below, excluded).
  if (s !== -maxpos) {
    if (s === 1) {
      if (exact.negative) return "minpos for a negative value";
    } else {
      const c = exact.compare(at(2 * s - 1));
      if (c < 0 || (c === 0 && s % 2 !== 0)) return `value below the tie point under code ${code}`;
    }
  }
  if (s !== maxpos) {
    if (s === -1) {
      if (!exact.negative) return "−minpos for a positive value";
    } else {
      const c = exact.compare(at(2 * s + 1));
      if (c > 0 || (c === 0 && s % 2 !== 0)) return `value above the tie point over code ${code}`;
    }
  }
  return null;
}
