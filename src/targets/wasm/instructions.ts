/**
 * Instruction selection: one IR expression → one folded WAT expression computing exactly the
 * value nodes.ts defines. Scalars: f32 ops are IEEE, integers wrap, shifts mask their count,
 * f32 → int conversions saturate (never trap), i32 min/max/abs are selects over temporaries;
 * f64 (scalar only) maps onto wasm's own f64 instructions, with promote/demote conversions.
 * Vectors (4 lanes in a v128): booleans are lane masks (all ones / zero), selects are
 * bitselects, and shift counts must be splats (SIMD shifts take one scalar count).
 */
import {
  assertNever, laneType, type BinaryOp, type ConvertOp, type ScalarType, type StorageType, type UnaryOp, type ValueType,
} from "../../codegen/ir/nodes.ts";
import { f32Bits, f32Literal, f64Literal, i32Literal, intBits } from "./literals.ts";
import { isVector, simdTypeOf, storageBytes, type Narrowing, type SimdExpr } from "./simd-ir.ts";

export type WasmType = "i32" | "f32" | "f64" | "v128";

/** The wasm value type holding an IR value type. */
export function wasmType(type: ValueType): WasmType {
  return isVector(type) ? "v128" : type === "f32" || type === "f64" ? type : "i32";
}

/** What instruction selection needs from the kernel being rendered. */
export interface ExprContext {
  /** The local (or parameter) holding an IR name at this wasm type; throws if undeclared. */
  local(name: string, type: WasmType): string;
  /** A fresh temporary local. */
  temp(type: WasmType): string;
  /** The storage type of a buffer parameter (throws for anything else). */
  storage(buffer: string): StorageType;
  /** Byte offset and storage of a constant table in the module's data segment. */
  table(name: string): { readonly offset: number; readonly storage: "f32" | "i32" | "u32" };
  /** The local holding a buffer parameter's byte offset. */
  bufferBase(buffer: string): string;
}

const I32_CMP = { eq: "eq", ne: "ne", lt: "lt_s", le: "le_s", gt: "gt_s", ge: "ge_s" } as const;
const U32_CMP = { eq: "eq", ne: "ne", lt: "lt_u", le: "le_u", gt: "gt_u", ge: "ge_u" } as const;
/** f32 and f64 share these unary instructions (under their own prefix). */
const FLOAT_UNARY = { neg: "neg", abs: "abs", floor: "floor", trunc: "trunc", roundEven: "nearest", sqrt: "sqrt" } as const;

const i32Const = (bits: number) => `(i32.const ${i32Literal(bits)})`;
const v128Const = (bits: readonly number[]) => `(v128.const i32x4 ${bits.map(i32Literal).join(" ")})`;

/** The 32 bits of a scalar constant; bool lanes of a vector are masks. */
function constBits(type: ScalarType, value: number, asMask: boolean): number {
  if (type === "f64") throw new Error("an f64 constant has no 32-bit lane form");
  if (type === "f32") return f32Bits(value);
  const bits = intBits(type, value);
  return type === "bool" && asMask ? (bits ? 0xffffffff : 0) : bits;
}

/** Renders `e` as one folded WAT expression. */
export function renderExpr(e: SimdExpr, cx: ExprContext): string {
  const r = (x: SimdExpr) => renderExpr(x, cx);
  switch (e.kind) {
    case "const":
      if (e.type === "f64") return `(f64.const ${f64Literal(e.value)})`;
      return e.type === "f32" ? `(f32.const ${f32Literal(e.value)})` : i32Const(constBits(e.type, e.value, false));
    case "ref":
      return `(local.get ${cx.local(e.name, wasmType(e.type))})`;
    case "unary":
      return isVector(e.type) ? vectorUnary(e.op, laneType(e.type), r(e.arg)) : scalarUnary(e.op, e.type as ScalarType, r(e.arg), cx);
    case "binary": {
      if (!isVector(e.type)) {
        const folded = laneFold(e);
        if (folded !== null) return renderLaneFold(folded.op, folded.lane, r(folded.lanes), cx);
        return scalarBinary(e.op, e.type as ScalarType, r(e.a), r(e.b), cx);
      }
      if (e.op === "shl" || e.op === "shr") {
        if (e.b.kind !== "splat") throw new Error(`per-lane shift counts have no SIMD form (${e.type} ${e.op})`);
        const op = e.op === "shl" ? "shl" : e.type === "i32x4" ? "shr_s" : "shr_u";
        return `(i32x4.${op} ${r(e.a)} ${r(e.b.arg)})`;
      }
      // a + fromBool(m) is a − m: a true lane of a mask is −1, so the conversion's negation folds into the sum
      // (a count of compares that hold, as a codebook encode's, is one instruction per compare).
      if (e.op === "add" && (e.type === "i32x4" || e.type === "u32x4")) {
        const [maskB, maskA] = [countedMask(e.b), countedMask(e.a)];
        if (maskB !== null) return `(i32x4.sub ${r(e.a)} ${r(maskB)})`;
        if (maskA !== null) return `(i32x4.sub ${r(e.b)} ${r(maskA)})`;
      }
      // a − fromBool(m) is a + m, likewise (a count that starts high and drops for each compare that holds).
      if (e.op === "sub" && (e.type === "i32x4" || e.type === "u32x4")) {
        const mask = countedMask(e.b);
        if (mask !== null) return `(i32x4.add ${r(e.a)} ${r(mask)})`;
      }
      // a & (m ^ all ones) is v128.andnot a m: one instruction where the xor and the and are two.
      if (e.op === "and") {
        const [notB, notA] = [complemented(e.b), complemented(e.a)];
        if (notB !== null) return `(v128.andnot ${r(e.a)} ${r(notB)})`;
        if (notA !== null) return `(v128.andnot ${r(e.b)} ${r(notA)})`;
      }
      return vectorBinary(e.op, laneType(e.type), r(e.a), r(e.b));
    }
    case "compare": {
      const lane = laneType(e.type);
      const prefix = isVector(e.type) ? (lane === "f32" ? "f32x4" : "i32x4") : lane === "f32" || lane === "f64" ? lane : "i32";
      const op = lane === "f32" || lane === "f64" ? e.op : lane === "i32" ? I32_CMP[e.op] : U32_CMP[e.op];
      return `(${prefix}.${op} ${r(e.a)} ${r(e.b)})`;
    }
    case "select":
      return isVector(simdTypeOf(e.cond)) ? vectorSelect(e, cx) : `(select ${r(e.then)} ${r(e.else)} ${r(e.cond)})`;
    case "convert":
      return renderConvert(e.op, isVector(e.type), r(e.arg));
    case "load":
      return isVector(e.type) ? vectorLoad(e.buffer, e.type, e.index, cx) : scalarLoad(e.buffer, e.type, e.index, cx);
    case "lookup": {
      const table = cx.table(e.table);
      checkLookup(table.storage, e.type, e.table);
      const op = table.storage === "f32" ? "f32.load" : "i32.load";
      return `(${op} offset=${table.offset} (i32.shl ${r(e.index)} (i32.const 2)))`;
    }
    case "splat": {
      const lane = laneType(e.type);
      if (e.arg.kind === "const") return v128Const(Array(4).fill(constBits(lane, e.arg.value, true)));
      if (e.arg.kind === "load" && storageBytes(cx.storage(e.arg.buffer)) === 4) {
        checkStorage(cx.storage(e.arg.buffer), e.arg.type, `load from ${e.arg.buffer}`);
        return memoryOp("v128.load32_splat", 4, e.arg.buffer, e.arg.index, cx);
      }
      const x = r(e.arg);
      return lane === "f32" ? `(f32x4.splat ${x})` : lane === "bool" ? `(i32x4.splat (i32.sub (i32.const 0) ${x}))` : `(i32x4.splat ${x})`;
    }
    case "extract": {
      const from = simdTypeOf(e.arg);
      if (!isVector(from) || e.lane < 0 || e.lane > 3 || !Number.isInteger(e.lane)) throw new Error(`extract of lane ${e.lane} from ${from}`);
      const lane = laneType(from);
      if (lane === "f32") return `(f32x4.extract_lane ${e.lane} ${r(e.arg)})`;
      const x = `(i32x4.extract_lane ${e.lane} ${r(e.arg)})`;
      return lane === "bool" ? `(i32.and ${x} (i32.const 1))` : x;
    }
    case "lanes": {
      const lane = laneType(e.type);
      const shuffle = shuffleLanes(e.args, lane, cx);
      if (shuffle !== null) return shuffle;
      const gather = gatherLanes(e.args, cx);
      if (gather !== null) return gather;
      if (e.args.every((a) => a.kind === "const")) return v128Const(e.args.map((a) => constBits(lane, a.kind === "const" ? a.value : 0, true)));
      const shape = lane === "f32" ? "f32x4" : "i32x4";
      const arg = (a: SimdExpr) => (lane === "bool" ? `(i32.sub (i32.const 0) ${r(a)})` : r(a));
      let v = `(${shape}.splat ${arg(e.args[0])})`;
      for (let k = 1; k < 4; k++) v = `(${shape}.replace_lane ${k} ${v} ${arg(e.args[k])})`;
      return v;
    }
    case "madd":
      return `(f32x4.relaxed_madd ${r(e.a)} ${r(e.b)} ${r(e.c)})`;
    case "dot":
      return `(i32x4.dot_i16x8_s ${r(e.a)} ${r(e.b)})`;
    default:
      return assertNever(e, "expression");
  }
}

/** m where `e` is m ^ (all ones) (either operand order) on integer lanes, else null. */
function complemented(e: SimdExpr): SimdExpr | null {
  if (e.kind !== "binary" || e.op !== "xor" || (e.type !== "i32x4" && e.type !== "u32x4")) return null;
  const allOnes = (x: SimdExpr) => constLanes(x)?.every((v) => v === 0xffffffff) === true;
  return allOnes(e.b) ? e.a : allOnes(e.a) ? e.b : null;
}

/** The 32-bit lanes of a vector constant (a splat of a constant, or lanes of constants), or null. */
function constLanes(e: SimdExpr): readonly number[] | null {
  if (e.kind === "splat" && e.arg.kind === "const") return Array(4).fill(constBits(laneType(e.type), e.arg.value, true) >>> 0);
  if (e.kind === "lanes" && e.args.every((a) => a.kind === "const")) return e.args.map((a) => constBits(laneType(e.type), a.kind === "const" ? a.value : 0, true) >>> 0);
  return null;
}

const sameExpr = (a: SimdExpr, b: SimdExpr) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A vector select in fewer instructions than v128.bitselect (three on x86) where its form allows,
 * each computing exactly the select's lanes:
 * - f32 compare-and-select of the compared values: f32x4.pmin / pmax (one minps / maxps), which
 *   are defined as those selects (pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a), NaN and
 *   signed zeros included — the clamps of a squeeze exponent or a scaled value;
 * - an arm of all zero bits: v128.and / v128.andnot with the mask;
 * - two constant arms: k2 ^ ((k1 ^ k2) & mask), the xor folded into one constant.
 */
function vectorSelect(e: SimdExpr & { kind: "select" }, cx: ExprContext): string {
  const r = (x: SimdExpr) => renderExpr(x, cx);
  const { cond, then, else: otherwise } = e;
  if (cond.kind === "compare" && cond.type === "f32x4" && (cond.op === "lt" || cond.op === "gt")) {
    const { a, b } = cond;
    // lt: a < b ? b : a = pmax(a, b); a < b ? a : b = pmin(b, a). gt: b < a ? b : a = pmin(a, b); b < a ? a : b = pmax(b, a).
    if (sameExpr(then, b) && sameExpr(otherwise, a)) return `(f32x4.${cond.op === "lt" ? "pmax" : "pmin"} ${r(a)} ${r(b)})`;
    if (sameExpr(then, a) && sameExpr(otherwise, b)) return `(f32x4.${cond.op === "lt" ? "pmin" : "pmax"} ${r(b)} ${r(a)})`;
  }
  const [one, other] = [constLanes(then), constLanes(otherwise)];
  const zero = (lanes: readonly number[] | null) => lanes !== null && lanes.every((v) => v === 0);
  if (zero(other)) return `(v128.and ${r(then)} ${r(cond)})`;
  if (zero(one)) return `(v128.andnot ${r(otherwise)} ${r(cond)})`;
  if (one !== null && other !== null) return `(v128.xor ${v128Const(other)} (v128.and ${v128Const(one.map((v, k) => v ^ other[k]))} ${r(cond)}))`;
  return `(v128.bitselect ${r(then)} ${r(otherwise)} ${r(cond)})`;
}

/**
 * Lanes that are each a lane of one of at most two vector locals of the same lane type (a
 * transpose's step): one i8x16.shuffle of their bytes, or null.
 */
function shuffleLanes(args: readonly SimdExpr[], lane: ScalarType, cx: ExprContext): string | null {
  if (lane === "bool") return null;
  const sources: string[] = [];
  const bytes: number[] = [];
  for (const a of args) {
    if (a.kind !== "extract" || a.type !== lane || a.arg.kind !== "ref" || laneType(simdTypeOf(a.arg)) !== lane) return null;
    let s = sources.indexOf(a.arg.name);
    if (s < 0) s = sources.push(a.arg.name) - 1;
    if (s > 1) return null;
    for (let b = 0; b < 4; b++) bytes.push(16 * s + 4 * a.lane + b);
  }
  const [first, second = first] = sources.map((name) => `(local.get ${cx.local(name, "v128")})`);
  return `(i8x16.shuffle ${bytes.join(" ")} ${first} ${second})`;
}

/**
 * Lanes that are all table lookups, or all loads from 32-bit buffers (a gather at computed
 * indices, the block form's lanes): one load into each lane (load32_zero, then load32_lane: one
 * instruction each on x86, where a scalar load and a replace_lane take two).
 */
function gatherLanes(args: readonly SimdExpr[], cx: ExprContext): string | null {
  if (args.every((a) => a.kind === "load" && storageBytes(cx.storage(a.buffer)) === 4)) {
    let v = "";
    args.forEach((a, k) => {
      if (a.kind !== "load") return;
      checkStorage(cx.storage(a.buffer), a.type, `load from ${a.buffer}`);
      v = k === 0 ? memoryOp("v128.load32_zero", 4, a.buffer, a.index, cx) : memoryOp("v128.load32_lane", 4, a.buffer, a.index, cx, ` ${v}`, k);
    });
    return v;
  }
  if (!args.every((a) => a.kind === "lookup")) return null;
  let v = "";
  args.forEach((a, k) => {
    if (a.kind !== "lookup") return;
    const table = cx.table(a.table);
    checkLookup(table.storage, a.type, a.table);
    const address = `(i32.shl ${renderExpr(a.index, cx)} (i32.const 2))`;
    v = k === 0 ? `(v128.load32_zero offset=${table.offset} ${address})` : `(v128.load32_lane offset=${table.offset} ${k} ${address} ${v})`;
  });
  return v;
}

function checkLookup(storage: "f32" | "i32" | "u32", type: ScalarType, table: string): void {
  if (storage === "f32" ? type !== "f32" : type === "f32" || type === "f64" || type === "bool") throw new Error(`lookup of ${type} from the ${storage} table ${table}`);
}

function scalarUnary(op: UnaryOp, type: ScalarType, x: string, cx: ExprContext): string {
  if (type === "f32" || type === "f64") {
    if (op === "not" || op === "clz") throw new Error(`${type} has no ${op}`);
    return `(${type}.${FLOAT_UNARY[op]} ${x})`;
  }
  switch (op) {
    case "neg":
      return type === "bool" ? x : `(i32.sub (i32.const 0) ${x})`;
    case "abs": {
      if (type !== "i32") return x;
      const t = cx.temp("i32");
      return `(select (i32.sub (i32.const 0) (local.tee ${t} ${x})) (local.get ${t}) (i32.lt_s (local.get ${t}) (i32.const 0)))`;
    }
    case "not":
      return type === "bool" ? `(i32.eqz ${x})` : `(i32.xor ${x} (i32.const -1))`;
    case "clz":
      if (type === "bool") break;
      return `(i32.clz ${x})`;
    case "floor":
    case "trunc":
    case "roundEven":
    case "sqrt":
      break;
    default:
      return assertNever(op, "unary op");
  }
  throw new Error(`${type} has no ${op}`);
}

function scalarBinary(op: BinaryOp, type: ScalarType, a: string, b: string, cx: ExprContext): string {
  if (type === "f32" || type === "f64") {
    if (op === "add" || op === "sub" || op === "mul" || op === "div" || op === "min" || op === "max") return `(${type}.${op} ${a} ${b})`;
    throw new Error(`${type} has no ${op}`);
  }
  if (type === "bool" && op !== "and" && op !== "or" && op !== "xor") throw new Error(`bool has no ${op}`);
  switch (op) {
    case "add":
    case "sub":
    case "mul":
    case "and":
    case "or":
    case "xor":
    case "shl":
      return `(i32.${op} ${a} ${b})`;
    case "shr":
      return `(i32.${type === "i32" ? "shr_s" : "shr_u"} ${a} ${b})`;
    case "min":
    case "max": {
      const ta = cx.temp("i32");
      const tb = cx.temp("i32");
      const cmp = `${op === "min" ? "lt" : "gt"}_${type === "i32" ? "s" : "u"}`;
      return `(select (local.tee ${ta} ${a}) (local.tee ${tb} ${b}) (i32.${cmp} (local.get ${ta}) (local.get ${tb})))`;
    }
    case "div":
      if (type === "bool") throw new Error("bool has no div");
      return `(i32.${type === "i32" ? "div_s" : "div_u"} ${a} ${b})`;
    default:
      return assertNever(op, "binary op");
  }
}

function vectorUnary(op: UnaryOp, lane: ScalarType, x: string): string {
  if (lane === "f32") {
    if (op === "not" || op === "clz") throw new Error(`f32x4 has no ${op}`);
    return `(f32x4.${FLOAT_UNARY[op]} ${x})`;
  }
  switch (op) {
    case "neg":
      return lane === "bool" ? x : `(i32x4.neg ${x})`;
    case "abs":
      return lane === "i32" ? `(i32x4.abs ${x})` : x;
    case "not":
      return `(v128.not ${x})`;
    case "clz":
      throw new Error("clz has no i32x4 form (the vectorizer expands it into selects)");
    case "floor":
    case "trunc":
    case "roundEven":
    case "sqrt":
      throw new Error(`${lane}x4 has no ${op}`);
    default:
      return assertNever(op, "unary op");
  }
}

/**
 * op(op(v[0], v[1]), op(v[2], v[3])) for an integer sum, maximum or minimum of the lanes of one
 * vector local v (the vectorizer's fold of lane partials), or null. Such an op is exact in any
 * order, so the fold may pair the lanes as renderLaneFold does.
 */
function laneFold(e: SimdExpr & { kind: "binary" }): { op: "add" | "max" | "min"; lane: "i32" | "u32"; lanes: SimdExpr } | null {
  const { op, type } = e;
  if ((op !== "add" && op !== "max" && op !== "min") || (type !== "i32" && type !== "u32")) return null;
  /** The vector local whose lanes k and k + 1 `x` combines, or null. */
  const pair = (x: SimdExpr, k: number): (SimdExpr & { kind: "ref" }) | null => {
    if (x.kind !== "binary" || x.op !== op || x.type !== type) return null;
    const [a, b] = [x.a, x.b];
    if (a.kind !== "extract" || b.kind !== "extract" || a.lane !== k || b.lane !== k + 1 || a.type !== type || b.type !== type) return null;
    if (a.arg.kind !== "ref" || b.arg.kind !== "ref" || a.arg.name !== b.arg.name || laneType(simdTypeOf(a.arg)) !== type) return null;
    return a.arg;
  };
  const v = pair(e.a, 0);
  return v !== null && pair(e.b, 2)?.name === v.name ? { op, lane: type, lanes: v } : null;
}

/** A lane fold in log steps: v op (v's halves swapped), then that op (its lane pairs swapped), lane 0 — 2 shuffles and 2 vector ops where 4 extracts and 3 scalar ops were. */
function renderLaneFold(op: "add" | "max" | "min", lane: "i32" | "u32", v: string, cx: ExprContext): string {
  const halves = cx.temp("v128");
  const swapHalves = `(i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v})`;
  const swapPairs = `(i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get ${halves}) (local.get ${halves}))`;
  return `(i32x4.extract_lane 0 ${vectorBinary(op, lane, `(local.tee ${halves} ${vectorBinary(op, lane, v, swapHalves)})`, swapPairs)})`;
}

/** The mask of a vector mask converted to 0 / 1 per lane (through i32/u32 reinterpretations, which render to nothing), or null. */
function countedMask(e: SimdExpr): SimdExpr | null {
  if (e.kind !== "convert" || !isVector(e.type)) return null;
  if (e.op === "u32.fromBool") return e.arg;
  return e.op === "i32.fromU32" || e.op === "u32.fromI32" ? countedMask(e.arg) : null;
}

function vectorBinary(op: BinaryOp, lane: ScalarType, a: string, b: string): string {
  if (lane === "f32") {
    if (op === "add" || op === "sub" || op === "mul" || op === "div" || op === "min" || op === "max") return `(f32x4.${op} ${a} ${b})`;
    throw new Error(`f32x4 has no ${op}`);
  }
  if (op === "and" || op === "or" || op === "xor") return `(v128.${op} ${a} ${b})`;
  if (lane === "bool") throw new Error(`boolx4 has no ${op}`);
  if (op === "add" || op === "sub" || op === "mul") return `(i32x4.${op} ${a} ${b})`;
  if (op === "min" || op === "max") return `(i32x4.${op}_${lane === "i32" ? "s" : "u"} ${a} ${b})`;
  throw new Error(`${lane}x4 has no ${op}`);
}

function renderConvert(op: ConvertOp, vector: boolean, x: string): string {
  switch (op) {
    case "f32.fromI32":
      return vector ? `(f32x4.convert_i32x4_s ${x})` : `(f32.convert_i32_s ${x})`;
    case "f32.fromU32":
      return vector ? `(f32x4.convert_i32x4_u ${x})` : `(f32.convert_i32_u ${x})`;
    case "i32.fromF32":
      return vector ? `(i32x4.trunc_sat_f32x4_s ${x})` : `(i32.trunc_sat_f32_s ${x})`;
    case "u32.fromF32":
      return vector ? `(i32x4.trunc_sat_f32x4_u ${x})` : `(i32.trunc_sat_f32_u ${x})`;
    case "i32.fromU32":
    case "u32.fromI32":
      return x;
    case "u32.fromBool":
      return vector ? `(i32x4.neg ${x})` : x;
    case "u32.bitsOfF32":
      return vector ? x : `(i32.reinterpret_f32 ${x})`;
    case "f32.fromBits":
      return vector ? x : `(f32.reinterpret_i32 ${x})`;
    case "f64.fromF32":
    case "f32.fromF64":
    case "f64.fromI32": {
      if (vector) throw new Error(`${op} has no vector form (f64 is scalar)`);
      return { "f64.fromF32": `(f64.promote_f32 ${x})`, "f32.fromF64": `(f32.demote_f64 ${x})`, "f64.fromI32": `(f64.convert_i32_s ${x})` }[op];
    }
    default:
      return assertNever(op, "conversion");
  }
}

/**
 * Every buffer starts at or above this byte offset (the module's heap_base is never lower, and
 * the host allocates buffers above heap_base). It makes folding a constant into a memory
 * instruction's offset exact: for an in-range index X + c with 0 < c·bytes ≤ this, the address
 * operand base + X·bytes is ≥ base − c·bytes ≥ 0, so its i32 arithmetic does not wrap.
 */
export const MIN_BUFFER_OFFSET = 1024;

/**
 * The memory operand of element `index` of a buffer parameter: a byte address expression and a
 * constant `offset=` (an index X + c, c > 0 small, addresses X and folds c, see MIN_BUFFER_OFFSET).
 */
export function elementAddress(buffer: string, index: SimdExpr, cx: ExprContext): { readonly address: string; readonly offset: string } {
  const bytes = storageBytes(cx.storage(buffer));
  let element = index;
  let folded = 0;
  if (index.kind === "binary" && index.op === "add" && index.type === "i32" && index.b.kind === "const" && index.b.value > 0 && index.b.value * bytes <= MIN_BUFFER_OFFSET) {
    element = index.a;
    folded = index.b.value * bytes;
  }
  const x = renderExpr(element, cx);
  const shift = Math.log2(bytes);
  const scaled = shift === 0 ? x : `(i32.shl ${x} (i32.const ${shift}))`;
  return { address: `(i32.add (local.get ${cx.bufferBase(buffer)}) ${scaled})`, offset: folded === 0 ? "" : `offset=${folded} ` };
}

/** `(op offset=… align=… lane address operands…)`: a memory instruction on element `index`. */
function memoryOp(op: string, align: number | null, buffer: string, index: SimdExpr, cx: ExprContext, operands = "", lane: number | null = null): string {
  const { address, offset } = elementAddress(buffer, index, cx);
  return `(${op} ${offset}${align === null ? "" : `align=${align} `}${lane === null ? "" : `${lane} `}${address}${operands})`;
}

/** Throws unless a value of IR type `type` may be loaded from / stored to `storage`. */
export function checkStorage(storage: StorageType, type: ValueType, what: string): void {
  const lane = laneType(type);
  if (lane === "f64") throw new Error(`${what}: f64 values have no storage (convert with f32.fromF64)`);
  if (storage === "f32" ? lane !== "f32" : lane === "f32") throw new Error(`${what}: ${type} values in a ${storage} buffer`);
}

const SCALAR_LOAD: Record<StorageType, string> = { f32: "f32.load", i32: "i32.load", u32: "i32.load", u16: "i32.load16_u", u8: "i32.load8_u", i8: "i32.load8_s" };

function scalarLoad(buffer: string, type: ValueType, index: SimdExpr, cx: ExprContext): string {
  const storage = cx.storage(buffer);
  checkStorage(storage, type, `load from ${buffer}`);
  return memoryOp(SCALAR_LOAD[storage], null, buffer, index, cx);
}

/** 4 consecutive elements widened to 32-bit lanes; narrow loads read exactly 4 elements. */
function vectorLoad(buffer: string, type: ValueType, index: SimdExpr, cx: ExprContext): string {
  const storage = cx.storage(buffer);
  checkStorage(storage, type, `load from ${buffer}`);
  switch (storage) {
    case "f32":
    case "i32":
    case "u32":
      return memoryOp("v128.load", 4, buffer, index, cx);
    case "u16":
      return memoryOp("v128.load16x4_u", 2, buffer, index, cx);
    case "u8":
    case "i8": {
      const s = storage === "u8" ? "u" : "s";
      return `(i32x4.extend_low_i16x8_${s} (i16x8.extend_low_i8x16_${s} ${memoryOp("v128.load32_zero", 1, buffer, index, cx)}))`;
    }
    default:
      return assertNever(storage, "storage type");
  }
}

/** A store statement: narrow storage keeps the low bits of each lane (as the scalar stores do). */
export function renderStore(buffer: string, index: SimdExpr, value: SimdExpr, cx: ExprContext): string {
  const storage = cx.storage(buffer);
  const type = simdTypeOf(value);
  checkStorage(storage, type, `store to ${buffer}`);
  const v = renderExpr(value, cx);
  if (!isVector(type)) {
    const op = storage === "f32" ? "f32.store" : storage === "u16" ? "i32.store16" : storage === "u8" || storage === "i8" ? "i32.store8" : "i32.store";
    return memoryOp(op, null, buffer, index, cx, ` ${v}`);
  }
  const zero = "(v128.const i32x4 0 0 0 0)";
  switch (storage) {
    case "f32":
    case "i32":
    case "u32":
      return memoryOp("v128.store", 4, buffer, index, cx, ` ${v}`);
    case "u16":
      return memoryOp("v128.store64_lane", 2, buffer, index, cx, ` (i8x16.shuffle 0 1 4 5 8 9 12 13 0 0 0 0 0 0 0 0 ${v} ${zero})`, 0);
    case "u8":
    case "i8":
      return memoryOp("v128.store32_lane", 1, buffer, index, cx, ` (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0 ${v} ${zero})`, 0);
    default:
      return assertNever(storage, "storage type");
  }
}

/**
 * A narrowStore statement: 4 (u8/i8) or 2 (u16) vectors of 32-bit lanes as one 16-byte store.
 * The narrowing instructions saturate, reading their inputs as signed: i16x8.narrow_i32x4_u then
 * i8x16.narrow_i16x8_u clamp to [0, 2^bits − 1] ("unsigned"; "masked" first keeps each lane's
 * low bits, as a store truncates), the _s forms to the signed range ("signed"). `signs` go
 * through the _s forms, which keep each lane's sign bit as the element's top bit (a negative i32
 * saturates to −2^(bits−1), the rest to at most 2^(bits−1) − 1): that bit, masked, is or'ed in.
 */
export function renderNarrowStore(buffer: string, index: SimdExpr, values: readonly SimdExpr[], narrowing: Narrowing, cx: ExprContext, signs?: readonly SimdExpr[]): string {
  const storage = cx.storage(buffer);
  const bytes = storageBytes(storage);
  if (bytes === 4) throw new Error(`narrow store to ${buffer}: ${storage} elements are not narrow`);
  const count = 4 / bytes;
  if (values.length !== count) throw new Error(`narrow store to ${buffer}: ${values.length} vectors, a 16-byte ${storage} store takes ${count}`);
  if (signs !== undefined && signs.length !== count) throw new Error(`narrow store to ${buffer}: ${signs.length} sign vectors for ${count} values`);
  const mask = v128Const(Array(4).fill(bytes === 1 ? 0xff : 0xffff));
  const rendered = (vectors: readonly SimdExpr[], what: string) =>
    vectors.map((v) => {
      const type = simdTypeOf(v);
      checkStorage(storage, type, `store to ${buffer}`);
      if (type !== "u32x4" && type !== "i32x4") throw new Error(`narrow store to ${buffer}: ${type} ${what} (want u32x4 or i32x4)`);
      return renderExpr(v, cx);
    });
  const packedOf = (lanes: readonly string[], sign: "s" | "u") => {
    const halves: string[] = [];
    for (let m = 0; m < lanes.length; m += 2) halves.push(`(i16x8.narrow_i32x4_${sign} ${lanes[m]} ${lanes[m + 1]})`);
    return bytes === 1 ? `(i8x16.narrow_i16x8_${sign} ${halves[0]} ${halves[1]})` : halves[0];
  };
  const lanes = rendered(values, "values").map((v) => (narrowing === "masked" ? `(v128.and ${v} ${mask})` : v));
  let packed = packedOf(lanes, narrowing === "signed" ? "s" : "u");
  if (signs !== undefined) {
    const topBits = v128Const(Array(4).fill(bytes === 1 ? 0x80808080 : 0x80008000));
    packed = `(v128.or ${packed} (v128.and ${packedOf(rendered(signs, "signs"), "s")} ${topBits}))`;
  }
  return memoryOp("v128.store", bytes, buffer, index, cx, ` ${packed}`);
}
