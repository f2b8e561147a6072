/**
 * Posit arithmetic against the 2022 standard itself: every result is checked with an independent
 * rounding certificate (rounding-certificate.ts: the exact value lies between the tie points,
 * found as posit⟨n+1⟩ codes) — exhaustively for add, sub, mul, div on posit⟨8,0⟩ and ⟨8,2⟩ and
 * sqrt of every 8- and 16-bit code, by random sampling for fma and for ⟨16,1⟩, ⟨16,2⟩, ⟨32,2⟩,
 * ⟨12,3⟩ — plus the algebra the standard implies (commutativity, identities, NaR rules,
 * sub = add of the negation, fma = exact then round, sqrt of squares, div undoes an exact mul).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addExact, mulExact, negateCode, negateExact, positOp, positToExact, type ExactValue, type PositOp, type PositShape,
} from "../../src/dsl/semantics/posit-arith.ts";
import { compareExact, exactTarget, roundingViolation, type Target } from "./rounding-certificate.ts";

const P8: readonly PositShape[] = [{ n: 8, es: 0 }, { n: 8, es: 2 }];
const WIDE: readonly PositShape[] = [{ n: 16, es: 1 }, { n: 16, es: 2 }, { n: 32, es: 2 }, { n: 12, es: 3 }, { n: 5, es: 1 }];
const name = (s: PositShape) => `posit⟨${s.n},${s.es}⟩`;
const nar = (s: PositShape) => 2 ** (s.n - 1);
const one = (s: PositShape) => 2 ** (s.n - 2);

/** What the exact result of `op` is, as a rounding target. */
function target(shape: PositShape, op: PositOp, codes: readonly number[]): Target {
  const [a, b, c] = codes.map((code) => positToExact(shape, code));
  switch (op) {
    case "add":
      return exactTarget(addExact(a, b));
    case "sub":
      return exactTarget(addExact(a, negateExact(b)));
    case "mul":
      return exactTarget(mulExact(a, b));
    case "fma":
      return exactTarget(addExact(mulExact(a, b), c));
    case "div":
      return quotientTarget(a, b);
    case "sqrt":
      return rootTarget(a);
  }
}

/** a/b by comparison: sign(a/b − t) = sign(a − b·t)·sign(b). */
function quotientTarget(a: ExactValue, b: ExactValue): Target {
  if (a.kind === "nar" || b.kind === "nar" || b.kind === "zero") return { kind: "nar" };
  if (a.kind === "zero") return a;
  return { kind: "real", negative: a.negative !== b.negative, compare: (t) => compareExact(a, mulExact(b, t)) * (b.negative ? -1 : 1) };
}

/** √a by comparison: sign(√a − t) = sign(a − t²) for t > 0. */
function rootTarget(a: ExactValue): Target {
  if (a.kind === "nar" || (a.kind === "finite" && a.negative)) return { kind: "nar" };
  if (a.kind === "zero") return a;
  return { kind: "real", negative: false, compare: (t) => (t.kind !== "finite" || t.negative ? 1 : compareExact(a, mulExact(t, t))) };
}

function checkAll(shape: PositShape, op: PositOp, tuples: Iterable<readonly number[]>): void {
  const bad: string[] = [];
  let count = 0;
  for (const codes of tuples) {
    count++;
    const got = positOp(shape, op, codes);
    const why = roundingViolation(shape, target(shape, op, codes), got);
    if (why !== null && bad.length < 8) bad.push(`${op}(${codes.join(", ")}) = ${got}: ${why}`);
  }
  expect(count).toBeGreaterThan(0);
  expect(bad, bad.join("\n")).toEqual([]);
}

function* allPairs(shape: PositShape): Generator<readonly number[]> {
  for (let a = 0; a < 2 ** shape.n; a++) for (let b = 0; b < 2 ** shape.n; b++) yield [a, b];
}

/** Deterministic pseudo-random codes (a fixed LCG: the same tuples every run). */
function* randomTuples(shape: PositShape, arity: number, count: number, seed: number): Generator<readonly number[]> {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  for (let i = 0; i < count; i++) yield Array.from({ length: arity }, () => next() % 2 ** shape.n);
}

describe("every result is the exact value rounded once (independent certificate)", () => {
  for (const shape of P8) {
    for (const op of ["add", "sub", "mul", "div"] as const) {
      it(`${name(shape)} ${op}: all 65,536 pairs`, () => checkAll(shape, op, allPairs(shape)));
    }
    it(`${name(shape)} fma: 30,000 random triples`, () => checkAll(shape, "fma", randomTuples(shape, 3, 30000, 7)));
  }
  for (const shape of [...P8, { n: 16, es: 1 }, { n: 16, es: 2 }]) {
    it(`${name(shape)} sqrt: every code`, () => checkAll(shape, "sqrt", Array.from({ length: 2 ** shape.n }, (_, a) => [a])));
  }
  for (const shape of WIDE) {
    for (const op of ["add", "sub", "mul", "div", "fma", "sqrt"] as const) {
      it(`${name(shape)} ${op}: random operands`, () => {
        const arity = op === "sqrt" ? 1 : op === "fma" ? 3 : 2;
        checkAll(shape, op, randomTuples(shape, arity, 1500, shape.n * 31 + op.length));
      });
    }
  }
});

describe("the algebra the standard implies (exhaustive on 8 bits)", () => {
  for (const shape of P8) {
    const codes = Array.from({ length: 2 ** shape.n }, (_, i) => i);
    it(`${name(shape)}: add and mul commute; sub is add of the negation; negation is symmetric`, () => {
      let checked = 0;
      for (const a of codes) {
        for (const b of codes) {
          const sum = positOp(shape, "add", [a, b]);
          const product = positOp(shape, "mul", [a, b]);
          if (sum !== positOp(shape, "add", [b, a])) throw new Error(`add(${a}, ${b}) ≠ add(${b}, ${a})`);
          if (product !== positOp(shape, "mul", [b, a])) throw new Error(`mul(${a}, ${b}) ≠ mul(${b}, ${a})`);
          if (positOp(shape, "sub", [a, b]) !== positOp(shape, "add", [a, negateCode(shape, b)])) throw new Error(`sub(${a}, ${b}) ≠ add(${a}, −${b})`);
          if (positOp(shape, "add", [negateCode(shape, a), negateCode(shape, b)]) !== negateCode(shape, sum)) throw new Error(`−a + −b ≠ −(a + b) at ${a}, ${b}`);
          checked++;
        }
      }
      expect(checked).toBe(2 ** (2 * shape.n));
    });
    it(`${name(shape)}: x + 0 = x, x·1 = x, x − x = 0, x·0 = 0, x/1 = x, x/x = 1, NaR propagates, x/0 = NaR`, () => {
      for (const x of codes) {
        const isNar = x === nar(shape);
        expect(positOp(shape, "add", [x, 0])).toBe(x);
        expect(positOp(shape, "mul", [x, one(shape)])).toBe(x);
        expect(positOp(shape, "div", [x, one(shape)])).toBe(x);
        expect(positOp(shape, "sub", [x, x])).toBe(isNar ? nar(shape) : 0);
        expect(positOp(shape, "mul", [x, 0])).toBe(isNar ? nar(shape) : 0);
        expect(positOp(shape, "div", [x, 0])).toBe(nar(shape));
        if (!isNar && x !== 0) expect(positOp(shape, "div", [x, x])).toBe(one(shape));
        for (const op of ["add", "sub", "mul", "div"] as const) {
          expect(positOp(shape, op, [x, nar(shape)])).toBe(nar(shape));
          expect(positOp(shape, op, [nar(shape), x])).toBe(nar(shape));
        }
        expect(positOp(shape, "fma", [x, one(shape), nar(shape)])).toBe(nar(shape));
      }
    });
    it(`${name(shape)}: fma(a, b, 0) = a·b and fma(a, 1, c) = a + c`, () => {
      for (const a of codes) {
        for (const b of codes) {
          if (positOp(shape, "fma", [a, b, 0]) !== positOp(shape, "mul", [a, b])) throw new Error(`fma(${a}, ${b}, 0)`);
          if (positOp(shape, "fma", [a, one(shape), b]) !== positOp(shape, "add", [a, b])) throw new Error(`fma(${a}, 1, ${b})`);
        }
      }
    });
    it(`${name(shape)}: sqrt(x·x) = |x| and (a·b)/b = a wherever the product is exact`, () => {
      let exactSquares = 0;
      let exactProducts = 0;
      for (const a of codes) {
        if (a === nar(shape)) continue;
        const abs = a > nar(shape) ? negateCode(shape, a) : a;
        const square = positOp(shape, "mul", [a, a]);
        if (compareExact(positToExact(shape, square), mulExact(positToExact(shape, a), positToExact(shape, a))) === 0) {
          expect(positOp(shape, "sqrt", [square])).toBe(abs);
          exactSquares++;
        }
        for (const b of codes) {
          if (b === 0 || b === nar(shape)) continue;
          const product = positOp(shape, "mul", [a, b]);
          if (compareExact(positToExact(shape, product), mulExact(positToExact(shape, a), positToExact(shape, b))) !== 0) continue;
          if (positOp(shape, "div", [product, b]) !== a) throw new Error(`(${a}·${b})/${b} ≠ ${a}`);
          exactProducts++;
        }
      }
      expect(exactSquares).toBeGreaterThan(10);
      expect(exactProducts).toBeGreaterThan(1000);
    });
    it(`${name(shape)}: sqrt of a negative is NaR`, () => {
      for (const x of codes) if (x > nar(shape)) expect(positOp(shape, "sqrt", [x])).toBe(nar(shape));
    });
  }
  it("wider posits: the same identities on random operands", () => {
    for (const shape of WIDE) {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** shape.n - 1 }), fc.integer({ min: 0, max: 2 ** shape.n - 1 }), (a, b) => {
          expect(positOp(shape, "add", [a, b])).toBe(positOp(shape, "add", [b, a]));
          expect(positOp(shape, "mul", [a, b])).toBe(positOp(shape, "mul", [b, a]));
          expect(positOp(shape, "sub", [a, b])).toBe(positOp(shape, "add", [a, negateCode(shape, b)]));
          expect(positOp(shape, "fma", [a, b, 0])).toBe(positOp(shape, "mul", [a, b]));
          expect(positOp(shape, "add", [a, 0])).toBe(a);
        }),
        { numRuns: 400 },
      );
    }
  });
});
