/**
 * The WGSL target's renderer: a pure function from one pass of a scheduled, packed kernel
 * (kernel.ts) to a WGSL compute shader. Buffer parameters become storage bindings 0…k−1 in
 * parameter order (array<f32|i32|u32>: narrow codes arrive packed), the constant tables one
 * read-only storage binding (each at an offset, f32 by its bits), the scalar parameters one
 * uniform struct. Every operation spells out the IR semantics: shift counts masked to 5 bits,
 * u32 negation as 0 − x, f32 min/max ordering −0 below +0, select's WGSL argument order.
 *
 * WGSL has no `precise`, and the driver (Mesa, at least) treats f32 arithmetic as inexact: it
 * assumes no NaN (x != x folds to false), drops x + 0 and x·0, cancels x − x and factors
 * a·b + a·c. So f32 compares test NaN on the bits, f32 constants are opaque (literals.ts), and
 * an operand sharing a value with the other operand is laundered (shared.ts). Constants must be
 * folded first (fold.ts): WGSL evaluates const-expressions at shader creation.
 */
import { typeOf } from "../../codegen/ir/build.ts";
import { assertNever, type Expr, type Kernel, type ScalarType, type Stmt, type ValueType } from "../../codegen/ir/nodes.ts";
import type { PassLaunch, WgslPass } from "./kernel.ts";
import { WORKGROUP_SIZE } from "./kernel.ts";
import { f32Literal, i32Literal, OPAQUE_ZERO, u32Literal, wgslName } from "./literals.ts";
import { ValueNumbers } from "./shared.ts";

const SCALARS_STRUCT = "nf_Scalars";
const SCALARS = "nf_scalars";
const GID = "nf_gid";
/** The array rendered table lookups read: the tables' storage binding, or a workgroup copy of it (gemm-render.ts). */
export const TABLES = "nf_tables";
/** The pipeline-overridable workgroup shape of a grid pass. */
export const WORKGROUP_X = "nf_workgroup_x";
export const WORKGROUP_Y = "nf_workgroup_y";

/** The WGSL type of a scalar IR type. */
function wgslType(type: ValueType): string {
  switch (type) {
    case "f32":
    case "i32":
    case "u32":
    case "bool":
      return type;
    default:
      throw new Error(`the WGSL target is scalar: ${type} must not reach it`);
  }
}

function scalar(type: ValueType): ScalarType {
  wgslType(type);
  return type as ScalarType;
}

/** Converts a 32-bit value of type `from` to `to` keeping the bits (integers) or the value (bool → 0/1). */
function reinterpret(code: string, from: ScalarType, to: ScalarType, what: string): string {
  if (from === to) return code;
  if ((from === "i32" || from === "u32") && (to === "i32" || to === "u32")) return `bitcast<${to}>(${code})`;
  if (from === "bool" && (to === "i32" || to === "u32")) return `${to}(${code})`;
  throw new Error(`${what}: a ${from} value where ${to} is stored (the IR defines no such conversion here)`);
}

function literal(e: Expr & { kind: "const" }): string {
  switch (e.type) {
    case "f32":
      return f32Literal(e.value);
    case "i32":
      return i32Literal(e.value);
    case "u32":
      return u32Literal(e.value);
    case "bool":
      return e.value ? "true" : "false";
    default:
      throw new Error(`WGSL has no ${e.type} constants`);
  }
}

/** Renders expressions of one kernel (knows its buffers' element types and its tables). */
class ExprRenderer {
  private readonly buffers: ReadonlyMap<string, ScalarType>;
  private readonly tables: ReadonlyMap<string, ScalarType>;
  private readonly offsets: ReadonlyMap<string, number>;
  private readonly values: ValueNumbers;

  constructor(private readonly kernel: Kernel) {
    this.values = new ValueNumbers(kernel);
    this.offsets = tableLayout(kernel).offsets;
    const buffers = new Map<string, ScalarType>();
    for (const p of kernel.params) {
      if (p.kind !== "buffer") continue;
      if (p.storage !== "f32" && p.storage !== "i32" && p.storage !== "u32") throw new Error(`${kernel.name}: ${p.name} is ${p.storage}: narrow buffers must be packed first`);
      buffers.set(p.name, p.storage);
    }
    this.buffers = buffers;
    this.tables = new Map(kernel.tables.map((t) => [t.name, t.storage] as const));
  }

  buffer(name: string): ScalarType {
    const t = this.buffers.get(name);
    if (t === undefined) throw new Error(`${this.kernel.name}: unknown buffer ${name}`);
    return t;
  }

  render(e: Expr): string {
    const r = (x: Expr) => this.render(x);
    switch (e.kind) {
      case "const":
        return literal(e);
      case "ref":
        return wgslName(e.name);
      case "unary": {
        const t = scalar(e.type);
        const x = r(e.arg);
        const op = e.op;
        switch (op) {
          case "neg":
            return t === "u32" ? `(0u - ${x})` : `(-${x})`;
          case "abs":
            return t === "u32" ? x : `abs(${x})`;
          case "not":
            return t === "bool" ? `(!${x})` : `(~${x})`;
          case "clz":
            return `countLeadingZeros(${x})`;
          case "floor":
            return `floor(${x})`;
          case "trunc":
            return `trunc(${x})`;
          case "roundEven":
            return `round(${x})`; // WGSL round breaks ties to even
          case "sqrt":
            return `sqrt(${x})`;
          default:
            return assertNever(op, "unary op");
        }
      }
      case "binary": {
        const t = scalar(e.type);
        const a = r(e.a);
        const b = t === "f32" ? this.operand(e.a, e.b) : r(e.b);
        const op = e.op;
        switch (op) {
          case "add":
            return `(${a} + ${b})`;
          case "sub":
            return `(${a} - ${b})`;
          case "mul":
            return `(${a} * ${b})`;
          case "div":
            if (t === "bool") throw new Error(`${this.kernel.name}: div of ${t}`);
            // WGSL lets a GPU's f32 division be 2.5 ULP off; the IR's is IEEE's (see nf_div_f32).
            return t === "f32" ? `nf_div_f32(${a}, ${b})` : `(${a} / ${b})`;
          case "min":
          case "max":
            return t === "f32" ? `nf_${op}_f32(${a}, ${b})` : `${op}(${a}, ${b})`;
          case "and":
            return `(${a} & ${b})`;
          case "or":
            return `(${a} | ${b})`;
          case "xor":
            return t === "bool" ? `(${a} != ${b})` : `(${a} ^ ${b})`;
          case "shl":
          case "shr":
            return `(${a} ${op === "shl" ? "<<" : ">>"} ${this.shiftCount(e.b)})`;
          default:
            return assertNever(op, "binary op");
        }
      }
      case "compare": {
        const t = scalar(e.type);
        const op = { eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" }[e.op];
        if (t === "bool" && e.op !== "eq" && e.op !== "ne") return `(u32(${r(e.a)}) ${op} u32(${r(e.b)}))`;
        if (t !== "f32") return `(${r(e.a)} ${op} ${r(e.b)})`;
        const compared = `(${r(e.a)} ${op} ${this.operand(e.a, e.b)})`;
        // NaN operands: ordered compares are false and ne is true, whatever the driver assumes.
        const nans = [e.a, e.b].filter((x) => !(x.kind === "const" && !Number.isNaN(x.value))).map((x) => `nf_nan(${r(x)})`);
        if (nans.length === 0) return compared;
        return e.op === "ne" ? `(${compared} || ${nans.join(" || ")})` : `(${compared} && !(${nans.join(" || ")}))`;
      }
      case "select":
        scalar(e.type);
        return `select(${r(e.else)}, ${r(e.then)}, ${r(e.cond)})`;
      case "convert": {
        const x = r(e.arg);
        const op = e.op;
        switch (op) {
          case "f32.fromI32":
          case "f32.fromU32":
            return `f32(${x})`;
          case "i32.fromF32":
            return `i32(${x})`;
          case "u32.fromF32":
            return `u32(${x})`;
          case "i32.fromU32":
            return `bitcast<i32>(${x})`;
          case "u32.fromI32":
          case "u32.bitsOfF32":
            return `bitcast<u32>(${x})`;
          case "u32.fromBool":
            return `u32(${x})`;
          case "f32.fromBits":
            return `bitcast<f32>(${x})`;
          case "f64.fromF32":
          case "f32.fromF64":
          case "f64.fromI32":
            throw new Error(`${this.kernel.name}: WGSL has no f64 (${op})`);
          default:
            return assertNever(op, "conversion");
        }
      }
      case "load": {
        return reinterpret(`${wgslName(e.buffer)}[${r(e.index)}]`, this.buffer(e.buffer), e.type, `${this.kernel.name}: load from ${e.buffer}`);
      }
      case "lookup": {
        const storage = this.tables.get(e.table);
        if (storage === undefined) throw new Error(`${this.kernel.name}: unknown table ${e.table}`);
        wgslName(e.table);
        const offset = this.offsets.get(e.table) ?? 0;
        const at = `${TABLES}[${offset === 0 ? "" : `${u32Literal(offset)} + `}u32(${r(e.index)})]`;
        return reinterpret(storage === "u32" ? at : `bitcast<${storage}>(${at})`, storage, e.type, `${this.kernel.name}: lookup in ${e.table}`);
      }
      case "splat":
      case "extract":
        throw new Error("the WGSL target is scalar: vector IR must not reach it");
      default:
        return assertNever(e, "expression");
    }
  }

  /** The second operand of an f32 operation, laundered when it shares a value with the first (shared.ts). */
  private operand(a: Expr, b: Expr): string {
    return this.values.sharesValue(a, b) ? `nf_launder(${this.render(b)})` : this.render(b);
  }

  /** A u32 shift count in [0, 31]: the IR takes counts modulo 32 (WGSL rejects constant counts ≥ 32). */
  private shiftCount(count: Expr): string {
    if (count.kind === "const") return u32Literal((count.value >>> 0) & 31);
    const t = typeOf(count);
    const c = this.render(count);
    return `(${t === "u32" ? c : `bitcast<u32>(${c})`} & 31u)`;
  }
}

function renderStmts(stmts: readonly Stmt[], r: ExprRenderer, indent: string, loops: { count: number }): string[] {
  const out: string[] = [];
  for (const s of stmts) {
    switch (s.kind) {
      case "let":
        wgslType(typeOf(s.value));
        out.push(`${indent}let ${wgslName(s.name)} = ${r.render(s.value)};`);
        break;
      case "var":
        out.push(`${indent}var ${wgslName(s.name)}: ${wgslType(s.type)} = ${r.render(s.init)};`);
        break;
      case "assign":
        out.push(`${indent}${wgslName(s.name)} = ${r.render(s.value)};`);
        break;
      case "store": {
        const value = reinterpret(r.render(s.value), scalar(typeOf(s.value)), r.buffer(s.buffer), `store to ${s.buffer}`);
        out.push(`${indent}${wgslName(s.buffer)}[${r.render(s.index)}] = ${value};`);
        break;
      }
      case "for": {
        if (!Number.isInteger(s.step) || s.step <= 0 || s.step > 0x7fffffff) throw new Error(`loop ${s.index}: step ${s.step} must be a positive integer`);
        const i = wgslName(s.index);
        const end = `nf_end_${loops.count++}`;
        out.push(
          `${indent}{`,
          `${indent}  let ${end} = ${r.render(s.to)};`,
          `${indent}  for (var ${i}: i32 = ${r.render(s.from)}; ${i} < ${end}; ${i} += ${i32Literal(s.step)}) {`,
          ...renderStmts(s.body, r, `${indent}    `, loops),
          `${indent}  }`,
          `${indent}}`,
        );
        break;
      }
      case "if": {
        out.push(`${indent}if (${r.render(s.cond)}) {`, ...renderStmts(s.then, r, `${indent}  `, loops));
        if (s.else.length > 0) out.push(`${indent}} else {`, ...renderStmts(s.else, r, `${indent}  `, loops));
        out.push(`${indent}}`);
        break;
      }
      default:
        assertNever(s, "statement");
    }
  }
  return out;
}

const HELPERS = `// IR compares are IEEE-ordered; the driver may assume no NaN (Mesa folds x != x to false), so NaN is tested on the bits.
fn nf_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// The same value, which the driver cannot prove equal to x (see shared.ts).
fn nf_launder(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ ${SCALARS}.${OPAQUE_ZERO}); }
// IR min/max order -0 below +0 (the operands are never NaN).
fn nf_min_f32(a: f32, b: f32) -> f32 { return select(b, a, a < b || (a == b && bitcast<u32>(a) > bitcast<u32>(b))); }
fn nf_max_f32(a: f32, b: f32) -> f32 { return select(b, a, a > b || (a == b && bitcast<u32>(a) < bitcast<u32>(b))); }
// IR f32 division is IEEE's, correctly rounded (nearest even, subnormals kept). WGSL only promises
// 2.5 ULP, so the quotient is computed on the bits: long division of the 24-bit significands into
// 26 quotient bits plus a sticky remainder, then one rounding. Specials are decided on the bits too.
fn nf_div_f32(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let sign = (ua ^ ub) & 0x80000000u;
  let xa = ua & 0x7fffffffu;
  let xb = ub & 0x7fffffffu;
  // NaNs as x86 makes them (where the semantics and the wasm target run): an operand NaN comes back quieted, the
  // dividend's first; 0/0 and Inf/Inf give the default NaN 0xffc00000. An encoder keeps a NaN's sign, so this matters.
  if (xa > 0x7f800000u) { return bitcast<f32>(ua | 0x00400000u); }
  if (xb > 0x7f800000u) { return bitcast<f32>(ub | 0x00400000u); }
  if (xa == xb && (xa == 0u || xa == 0x7f800000u)) { return bitcast<f32>(xa | 0xffc00000u); } // xa is 0 or 0x7f800000: a NaN WGSL cannot write as a constant
  if (xa == 0x7f800000u || xb == 0u) { return bitcast<f32>(sign | 0x7f800000u); }
  if (xa == 0u || xb == 0x7f800000u) { return bitcast<f32>(sign); }
  var ea = i32(xa >> 23u);
  var ma = xa & 0x7fffffu;
  if (ea == 0) { let s = countLeadingZeros(ma) - 8u; ma = ma << s; ea = 1 - i32(s); } else { ma = ma | 0x800000u; }
  var eb = i32(xb >> 23u);
  var mb = xb & 0x7fffffu;
  if (eb == 0) { let s = countLeadingZeros(mb) - 8u; mb = mb << s; eb = 1 - i32(s); } else { mb = mb | 0x800000u; }
  var e = ea - eb + 127;
  if (ma < mb) { ma = ma << 1u; e = e - 1; }
  var q = 0u;
  var r = ma;
  for (var i = 0; i < 26; i = i + 1) {
    q = q << 1u;
    if (r >= mb) { r = r - mb; q = q | 1u; }
    r = r << 1u;
  }
  // q in [2^25, 2^26) is the quotient's significand with two extra bits; a normal result keeps 24.
  let shift = select(2u, u32(min(3 - e, 27)), e <= 0);
  let kept = q >> shift;
  let rest = q & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  let up = rest > half || (rest == half && (r != 0u || (kept & 1u) != 0u));
  let bits = select(0u, u32(e - 1) << 23u, e > 0) + kept + select(0u, 1u, up);
  return bitcast<f32>(sign | min(bits, 0x7f800000u));
}`;

const bitsScratch = new DataView(new ArrayBuffer(4));
function f32BitsOf(v: number): number {
  bitsScratch.setFloat32(0, v);
  return bitsScratch.getUint32(0);
}

/** Where each constant table starts in the kernel's one table binding, and its u32 words (f32 by bits). */
export function tableLayout(kernel: Kernel): { readonly offsets: ReadonlyMap<string, number>; readonly words: Uint32Array<ArrayBuffer> } {
  const offsets = new Map<string, number>();
  let size = 0;
  for (const t of kernel.tables) {
    offsets.set(t.name, size);
    size += t.values.length;
  }
  const words = new Uint32Array(Math.max(1, size));
  for (const t of kernel.tables) t.values.forEach((v, k) => (words[(offsets.get(t.name) ?? 0) + k] = t.storage === "f32" ? f32BitsOf(v) : v >>> 0));
  return { offsets, words };
}

export type ScalarParam = Kernel["params"][number] & { kind: "scalar" };

/** One line saying how a pass is spread over invocations. */
function describe(pass: WgslPass): string {
  const l = pass.launch;
  if (l.kind === "single") return `one invocation (${l.reason})`;
  if (l.reduction !== null) return l.reduction.pass === "partials" ? "partial maxima, in parallel per iteration (pass 1 of 2)" : "one invocation per iteration combines its partial maxima (pass 2 of 2)";
  const unit = l.inner?.unit ?? l.outer.unit;
  const what = l.inner === null ? "iteration" : "iteration × element";
  return `one invocation per ${what}${unit > 1 ? ` (${unit} per invocation: whole u32 words of codes)` : ""}${l.outer.phases > 1 ? `, ${l.outer.phases} phases` : ""}`;
}

/**
 * The scalar parameters the uniform struct holds, in order (invocation ids are builtins); the
 * struct ends with one more u32, always 0, that f32 constants are XORed with (literals.ts).
 */
export function uniformParams(ir: WgslPass<PassLaunch>): readonly ScalarParam[] {
  const builtins = ir.launch.kind === "grid" ? new Set([ir.launch.scalars.invocationX, ir.launch.scalars.invocationY]) : new Set<string>();
  return ir.kernel.params.filter((p): p is ScalarParam => p.kind === "scalar" && !builtins.has(p.name));
}

/**
 * The module-scope declarations of a shader of `kernel`: the uniform struct of `uniforms` (then
 * the opaque zero), one storage binding per buffer parameter in order, the tables' binding (named
 * `tableBinding`, TABLES unless the shader copies the tables elsewhere), the uniform binding, and
 * the helpers rendered code calls.
 */
export function renderDeclarations(kernel: Kernel, uniforms: readonly ScalarParam[], tableBinding = TABLES): string[] {
  const buffers = kernel.params.filter((p) => p.kind === "buffer");
  const lines = [`struct ${SCALARS_STRUCT} {`, ...uniforms.map((p) => `  ${wgslName(p.name)}: ${p.type === "bool" ? "u32" : p.type},`), `  ${OPAQUE_ZERO}: u32,`, "}"];
  buffers.forEach((p, binding) => {
    if (p.kind !== "buffer") return;
    lines.push(`@group(0) @binding(${binding}) var<storage, ${p.access === "read" ? "read" : "read_write"}> ${wgslName(p.name)}: array<${p.storage}>;`);
  });
  // Tables are read-only storage (lavapipe copies a const array indexed at run time into every invocation).
  const tables = kernel.tables.length > 0 ? 1 : 0;
  if (tables > 0) lines.push(`@group(0) @binding(${buffers.length}) var<storage, read> ${tableBinding}: array<u32>;`);
  lines.push(`@group(0) @binding(${buffers.length + tables}) var<uniform> ${SCALARS}: ${SCALARS_STRUCT};`);
  lines.push("", HELPERS, "");
  return lines;
}

/** `let` bindings of scalar parameters read from the uniforms (bools travel as u32). */
function uniformLets(params: readonly ScalarParam[], indent: string): string[] {
  return params.map((p) => {
    const field = `${SCALARS}.${wgslName(p.name)}`;
    return `${indent}let ${wgslName(p.name)} = ${p.type === "bool" ? `${field} != 0u` : field};`;
  });
}

/** The line a function or entry point starts with: the opaque zero f32 constants are XORed with (literals.ts). */
export const OPAQUE_ZERO_LET = `let ${OPAQUE_ZERO} = ${SCALARS}.${OPAQUE_ZERO};`;

/**
 * A WGSL function `fnName(args…) -> T` that a hand-laid shader calls (the GEMM's operand decode
 * and merge, gemm-render.ts): the kernel's body but its last statement, which must be a store,
 * and then the stored value returned (the store itself is the caller's). Scalars named in
 * `args` are the function's parameters; the other scalar parameters are read from the uniforms
 * and buffers are the shader's bindings, as in a kernel's `main`; expressions render exactly as
 * there, with the same defences against the driver's optimizer.
 */
export function renderWgslFunction(fnName: string, kernel: Kernel, args: readonly string[]): string {
  if (!/^nf_[a-z0-9_]+$/.test(fnName)) throw new Error(`refusing to emit ${JSON.stringify(fnName)} as a WGSL function name`);
  const last = kernel.body[kernel.body.length - 1];
  if (last?.kind !== "store") throw new Error(`${kernel.name}: a WGSL function's body must end in the store of its result`);
  const r = new ExprRenderer(kernel);
  const scalars = kernel.params.filter((p): p is ScalarParam => p.kind === "scalar");
  const signature = args.map((name) => {
    const p = scalars.find((s) => s.name === name);
    if (p === undefined) throw new Error(`${kernel.name}: ${name} is not a scalar parameter`);
    return `${wgslName(name)}: ${wgslType(p.type)}`;
  });
  return [
    `fn ${fnName}(${signature.join(", ")}) -> ${wgslType(typeOf(last.value))} {`,
    `  ${OPAQUE_ZERO_LET}`,
    ...uniformLets(scalars.filter((p) => !args.includes(p.name)), "  "),
    ...renderStmts(kernel.body.slice(0, -1), r, "  ", { count: 0 }),
    `  return ${r.render(last.value)};`,
    "}",
  ].join("\n");
}

/** The WGSL source of one pass of kernel `name`: bindings, tables, helpers and the `main` entry point. */
export function renderWgsl(name: string, ir: WgslPass): string {
  const kernel = ir.kernel;
  const r = new ExprRenderer(kernel);
  const scalars = kernel.params.filter((p): p is ScalarParam => p.kind === "scalar");
  const invocation = ir.launch.kind === "grid" ? new Map([[ir.launch.scalars.invocationX, "x"], [ir.launch.scalars.invocationY, "y"]]) : new Map<string, string>();
  const lines: string[] = [`// numforge kernel ${wgslName(name).slice(2)}: ${describe(ir)}`, ...renderDeclarations(kernel, uniformParams(ir))];
  const prologue = [
    `  ${OPAQUE_ZERO_LET}`,
    ...scalars.flatMap((p) => {
      const axis = invocation.get(p.name);
      return axis === undefined ? uniformLets([p], "  ") : [`  let ${wgslName(p.name)} = i32(${GID}.${axis});`];
    }),
  ];
  // A grid's workgroup shape is chosen per dispatch (x·y = 64): pipelines override it.
  if (ir.launch.kind === "grid") lines.push(`override ${WORKGROUP_X}: u32 = ${WORKGROUP_SIZE}u;`, `override ${WORKGROUP_Y}: u32 = 1u;`, "");
  lines.push(
    `@compute @workgroup_size(${ir.launch.kind === "grid" ? `${WORKGROUP_X}, ${WORKGROUP_Y}` : "1"})`,
    `fn main(@builtin(global_invocation_id) ${GID}: vec3u) {`,
    ...prologue,
    ...renderStmts(kernel.body, r, "  ", { count: 0 }),
    "}",
    "",
  );
  return lines.join("\n");
}
