/**
 * The wasm target's carrier-difference pass, an IR → IR pass on the SIMD IR after vectorize (and
 * superword): the fused fake-quantize (codegen/lower/fake-element.ts roundOnCarrier) rounds |x|
 * by one float32 addition S = C + X of a power-of-two carrier C, then reads the rounded value back
 * as the integer bits(S) − bits(C) converted to float and times C's ulp (bits(C) − 23·2^23) — four
 * instructions where S − C in float is one. The IR spells it that way for every target because GPU
 * shader compilers may fold (C + X) − C to X; WebAssembly's float arithmetic is IEEE and is never
 * reassociated, so here the value is S − C itself, which is exact and equal:
 *
 *   C = max(bits(X) & 0x7f800000, K1) + j·2^23, 1 ≤ j ≤ 23, K1's mantissa bits zero: a normal power
 *   of two 2^(E + j), E = max(exponent of X, K1's); X = min(a, K) with a ≥ 0 (a mask with
 *   0x7fffffff) and 0 ≤ K < +∞'s bits: finite and non-negative, X < 2^(E + 1) ≤ C. So S lies in
 *   [C, 2C], bits(S) − bits(C) = (S − C) / ulp(C) exactly, that integer times ulp(C) (a normal
 *   power of two when C's exponent field is above 23) is S − C, and S − C is an exact float32
 *   subtraction (Sterbenz). Every condition is checked on the IR (constants, and the carrier built
 *   from X's own bits); a form that does not match them exactly is left as it is.
 */
import { type SimdExpr, type SimdKernel, type SimdModule, type SimdStmt } from "./simd-ir.ts";
import { constantOf as integerConstant, singleLets } from "./simd-walk.ts";

const EXPONENT_MASK = 0x7f800000;
const ABS_MASK = 0x7fffffff;
const MANTISSA_MASK = 0x7fffff;
const TWO_23 = 2 ** 23;

/** The constant of a const or a splat of one, as i32 bits, or null. */
const constantOf = (e: SimdExpr): number | null => integerConstant(e, false);

/** e without the same-bits conversions `ops`. */
function unwrap(e: SimdExpr, ops: readonly string[]): SimdExpr {
  while (e.kind === "convert" && ops.includes(e.op)) e = e.arg;
  return e;
}
const INT_CASTS = ["u32.fromI32", "i32.fromU32"];

/** Rewrites every let, assign or store value of the form f32(bits(S) − bits(C)) · ulp(C) into S − C where provably equal. */
export function carrierDifferenceModule(module: SimdModule): SimdModule {
  return { ...module, kernels: module.kernels.map(carrierDifferenceKernel) };
}

function carrierDifferenceKernel(kernel: SimdKernel): SimdKernel {
  // Lets bound once (immutable), by name; vars and names bound twice are not looked through.
  const lets = singleLets(kernel.body);
  const definition = (e: SimdExpr): SimdExpr | null => (e.kind === "ref" ? lets.get(e.name) ?? null : null);
  const sameRef = (a: SimdExpr, b: SimdExpr) => a.kind === "ref" && b.kind === "ref" && a.name === b.name;

  /** X = min(a, K), a = y & 0x7fffffff (through casts and lets), 0 ≤ K < +∞'s bits: its largest bits, else null. */
  const boundedMagnitude = (x: SimdExpr): number | null => {
    const d = definition(unwrap(x, INT_CASTS));
    if (d === null || d.kind !== "binary" || d.op !== "min" || (d.type !== "i32" && d.type !== "i32x4")) return null;
    const k = constantOf(d.b);
    if (k === null || k < 0 || k >= EXPONENT_MASK) return null;
    let a = unwrap(d.a, INT_CASTS);
    a = unwrap(definition(a) ?? a, INT_CASTS);
    return a.kind === "binary" && a.op === "and" && constantOf(a.b) === ABS_MASK ? k : null;
  };

  /** C = max(X & 0x7f800000, K1) + j·2^23 with the conditions above: C's largest exponent field over X's range, else null. */
  const carrierOf = (c: SimdExpr, x: SimdExpr, xMax: number): boolean => {
    const d = definition(c);
    if (d === null || d.kind !== "binary" || d.op !== "add" || (d.type !== "i32" && d.type !== "i32x4")) return false;
    const step = constantOf(d.b);
    if (step === null || step % TWO_23 !== 0) return false;
    const j = step / TWO_23;
    if (j < 1 || j > 23) return false;
    const m = d.a;
    if (m.kind !== "binary" || m.op !== "max" || (m.type !== "i32" && m.type !== "i32x4")) return false;
    const k1 = constantOf(m.b);
    if (k1 === null || k1 < TWO_23 || (k1 & MANTISSA_MASK) !== 0) return false;
    const masked = m.a;
    if (masked.kind !== "binary" || masked.op !== "and" || constantOf(masked.b) !== EXPONENT_MASK || !sameRef(unwrap(masked.a, INT_CASTS), unwrap(x, INT_CASTS))) return false;
    const lowest = k1 >>> 23;
    const highest = Math.max(lowest, xMax >>> 23);
    // C finite at its largest, and its ulp 2^(E + j − 23) a normal float at its smallest.
    return highest + j <= 254 && lowest + j - 23 >= 1;
  };

  const rewrite = (e: SimdExpr): SimdExpr | null => {
    // mul(f32.fromI32(bits(S) − C), fromBits(C − 23·2^23))
    if (e.kind !== "binary" || e.op !== "mul" || (e.type !== "f32" && e.type !== "f32x4")) return null;
    const quanta = e.a;
    const ulp = unwrap(e.b, ["f32.fromBits", ...INT_CASTS]);
    if (quanta.kind !== "convert" || quanta.op !== "f32.fromI32") return null;
    const diff = quanta.arg;
    if (diff.kind !== "binary" || diff.op !== "sub" || ulp.kind !== "binary" || ulp.op !== "sub" || constantOf(ulp.b) !== 23 * TWO_23) return null;
    const c = ulp.a;
    if (!sameRef(diff.b, c)) return null;
    const sumBits = unwrap(diff.a, [...INT_CASTS, "u32.bitsOfF32"]);
    if (sumBits.kind !== "ref") return null;
    const sum = definition(sumBits);
    if (sum === null || sum.kind !== "binary" || sum.op !== "add" || sum.type !== e.type) return null;
    const [p, q] = [unwrap(sum.a, ["f32.fromBits", ...INT_CASTS]), unwrap(sum.b, ["f32.fromBits", ...INT_CASTS])];
    const cFirst = sameRef(p, c);
    const x = cFirst ? q : sameRef(q, c) ? p : null;
    if (x === null) return null;
    const xMax = boundedMagnitude(x);
    if (xMax === null || !carrierOf(c, x, xMax)) return null;
    // S − C, C as the float the addition read.
    return { kind: "binary", op: "sub", type: e.type, a: sumBits, b: cFirst ? sum.a : sum.b };
  };

  const visit = (e: SimdExpr): SimdExpr => {
    const direct = rewrite(e);
    if (direct !== null) return direct;
    switch (e.kind) {
      case "convert":
        return { ...e, arg: visit(e.arg) };
      default:
        return e;
    }
  };
  const block = (stmts: readonly SimdStmt[]): SimdStmt[] =>
    stmts.map((st): SimdStmt => {
      switch (st.kind) {
        case "let":
        case "assign":
        case "store":
          return { ...st, value: visit(st.value) };
        case "for":
          return { ...st, body: block(st.body) };
        case "if":
          return { ...st, then: block(st.then), else: block(st.else) };
        default:
          return st;
      }
    });
  return { ...kernel, body: block(kernel.body) };
}
