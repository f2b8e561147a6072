/**
 * The JS target's renderer: a pure function from IR to JavaScript source. f32 arithmetic is
 * wrapped in Math.fround, i32/u32 in |0 / >>>0, so the source computes exactly what the IR
 * interpreter defines; f64 is JS's own number arithmetic, unwrapped, and its conversions from
 * f32 and i32 are free (both are already exact doubles). Only identifiers that passed
 * validation and numeric literals reach it.
 */
import {
  assertNever, checkCapabilities, laneType, type Expr, type Kernel, type KernelModule, type ScalarType, type Stmt, type TargetCapabilities,
} from "../../codegen/ir/nodes.ts";

/** What the JS target renders beyond the core IR. */
export const JS_CAPABILITIES: TargetCapabilities = Object.freeze({ f64: true });

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` is a plain identifier (never a piece of code). */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`refusing to emit ${JSON.stringify(name)} as an identifier`);
  return name;
}

/** A numeric literal that parses back to exactly `value`. */
export function numberLiteral(value: number): string {
  if (typeof value !== "number") throw new Error(`refusing to emit ${JSON.stringify(value)} as a number`);
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (Object.is(value, -0)) return "-0";
  return String(value);
}

const PRELUDE = `const F = Math.fround;
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
function bitsOf(x) { scratchF32[0] = x; return scratchU32[0]; }
function fromBits(x) { scratchU32[0] = x; return scratchF32[0]; }
function roundEven(x) { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; }`;

function tableName(kernel: Kernel, table: string): string {
  return `${identifier(kernel.name)}__${identifier(table)}`;
}

function wrapInt(type: ScalarType, code: string): string {
  return type === "u32" ? `((${code}) >>> 0)` : type === "i32" ? `((${code}) | 0)` : code;
}

function renderExpr(e: Expr, kernel: Kernel): string {
  const r = (x: Expr) => renderExpr(x, kernel);
  switch (e.kind) {
    case "const":
      return e.type === "bool" ? (e.value ? "true" : "false") : numberLiteral(e.value);
    case "ref":
      return identifier(e.name);
    case "unary": {
      const t = scalar(e.type);
      const x = r(e.arg);
      const op = e.op;
      switch (op) {
        case "neg":
          return isFloat(t) ? `(-${x})` : wrapInt(t, `-${x}`);
        case "abs":
          return isFloat(t) ? `Math.abs(${x})` : wrapInt(t, `Math.abs(${x})`);
        case "not":
          return t === "bool" ? `(!${x})` : wrapInt(t, `~${x}`);
        case "clz":
          return `Math.clz32(${x})`;
        case "floor":
          return `Math.floor(${x})`;
        case "trunc":
          return `Math.trunc(${x})`;
        case "roundEven":
          return `roundEven(${x})`;
        case "sqrt":
          return t === "f64" ? `Math.sqrt(${x})` : `F(Math.sqrt(${x}))`;
        default:
          return assertNever(op, "unary op");
      }
    }
    case "binary": {
      const t = scalar(e.type);
      const a = r(e.a);
      const b = r(e.b);
      const infix = { add: "+", sub: "-", mul: "*", div: "/", and: "&", or: "|", xor: "^", shl: "<<", shr: t === "i32" ? ">>" : ">>>" } as const;
      if (e.op === "min" || e.op === "max") return `Math.${e.op}(${a}, ${b})`;
      if (t === "f32") return `F(${a} ${infix[e.op]} ${b})`;
      if (t === "f64") {
        if (e.op !== "add" && e.op !== "sub" && e.op !== "mul" && e.op !== "div") throw new Error(`f64 has no ${e.op}`);
        return `(${a} ${infix[e.op]} ${b})`;
      }
      if (t === "bool") return e.op === "and" ? `(${a} && ${b})` : e.op === "or" ? `(${a} || ${b})` : `(${a} !== ${b})`;
      if (e.op === "mul") return wrapInt(t, `Math.imul(${a}, ${b})`);
      if (e.op === "shr") return `(${a} ${infix.shr} ${b})`;
      return wrapInt(t, `${a} ${infix[e.op]} ${b}`);
    }
    case "compare": {
      const op = { eq: "===", ne: "!==", lt: "<", le: "<=", gt: ">", ge: ">=" }[e.op];
      return `(${r(e.a)} ${op} ${r(e.b)})`;
    }
    case "select":
      return `(${r(e.cond)} ? ${r(e.then)} : ${r(e.else)})`;
    case "convert": {
      const x = r(e.arg);
      const op = e.op;
      switch (op) {
        case "f32.fromI32":
        case "f32.fromU32":
          return `F(${x})`;
        case "i32.fromF32":
        case "i32.fromU32":
          return `(${x} | 0)`;
        case "u32.fromF32":
        case "u32.fromI32":
          return `(${x} >>> 0)`;
        case "u32.fromBool":
          return `(${x} ? 1 : 0)`;
        case "u32.bitsOfF32":
          return `bitsOf(${x})`;
        case "f32.fromBits":
          return `fromBits(${x})`;
        case "f64.fromF32":
        case "f64.fromI32":
          return x;
        case "f32.fromF64":
          return `F(${x})`;
        default:
          return assertNever(op, "conversion");
      }
    }
    case "load":
      noStorage(e.type, `load from ${e.buffer}`);
      return `${identifier(e.buffer)}[${r(e.index)}]`;
    case "lookup":
      noStorage(e.type, `lookup in ${e.table}`);
      return `${tableName(kernel, e.table)}[${r(e.index)}]`;
    case "splat":
    case "extract":
      throw new Error("the JS target is scalar: vector IR must not reach it");
    default:
      return assertNever(e, "expression");
  }
}

const isFloat = (t: ScalarType) => t === "f32" || t === "f64";

/** f64 values have no buffer or table storage (nodes.ts): they leave by f32.fromF64. */
function noStorage(type: Expr["type"], what: string): void {
  if (type === "f64") throw new Error(`${what}: f64 values have no storage (convert with f32.fromF64)`);
}

function scalar(type: Expr["type"]): ScalarType {
  if (type.endsWith("x4")) throw new Error("the JS target is scalar: vector IR must not reach it");
  return laneType(type);
}

function renderStmts(stmts: readonly Stmt[], kernel: Kernel, indent: string): string {
  const r = (e: Expr) => renderExpr(e, kernel);
  return stmts
    .map((s) => {
      switch (s.kind) {
        case "let":
          return `${indent}const ${identifier(s.name)} = ${r(s.value)};`;
        case "var":
          return `${indent}let ${identifier(s.name)} = ${r(s.init)};`;
        case "assign":
          return `${indent}${identifier(s.name)} = ${r(s.value)};`;
        case "store":
          noStorage(s.value.kind === "compare" ? "bool" : s.value.type, `store to ${s.buffer}`);
          return `${indent}${identifier(s.buffer)}[${r(s.index)}] = ${r(s.value)};`;
        case "for": {
          const i = identifier(s.index);
          return `${indent}for (let ${i} = ${r(s.from)}, ${i}_end = ${r(s.to)}; ${i} < ${i}_end; ${i} += ${numberLiteral(s.step)}) {\n${renderStmts(s.body, kernel, `${indent}  `)}\n${indent}}`;
        }
        case "if": {
          const otherwise = s.else.length > 0 ? ` else {\n${renderStmts(s.else, kernel, `${indent}  `)}\n${indent}}` : "";
          return `${indent}if (${r(s.cond)}) {\n${renderStmts(s.then, kernel, `${indent}  `)}\n${indent}}${otherwise}`;
        }
        default:
          return assertNever(s, "statement");
      }
    })
    .join("\n");
}

const TYPED_ARRAY = { f32: "Float32Array", i32: "Int32Array", u32: "Uint32Array" } as const;

function renderKernel(kernel: Kernel): string {
  const tables = kernel.tables
    .map((t) => `const ${tableName(kernel, t.name)} = new ${TYPED_ARRAY[t.storage]}([${t.values.map(numberLiteral).join(", ")}]);`)
    .join("\n");
  const params = kernel.params.map((p) => identifier(p.name)).join(", ");
  const fn = `function ${identifier(kernel.name)}(${params}) {\n${renderStmts(kernel.body, kernel, "  ")}\n}`;
  return tables.length > 0 ? `${tables}\n${fn}` : fn;
}

/** The module body: helpers, tables and one function per kernel, ending in `const kernels = {…}`. */
export function renderJs(module: KernelModule): string {
  checkCapabilities(module, "js", JS_CAPABILITIES);
  const names = module.kernels.map((k) => identifier(k.name));
  return `${PRELUDE}\n\n${module.kernels.map(renderKernel).join("\n\n")}\n\nconst kernels = { ${names.join(", ")} };\n`;
}
