/**
 * The IR interpreter: the executable definition of the IR's semantics (see nodes.ts). Slow and
 * strict — every load, lookup and store is bounds-checked — so targets can be tested against it.
 */
import { assertNever, laneType, type Expr, type Kernel, type ScalarType, type Stmt, type ValueType } from "./nodes.ts";

type Value = number | readonly number[];
export type KernelArgs = Readonly<Record<string, ArrayLike<number> & { [i: number]: number; length: number } | number>>;

const scratch = new DataView(new ArrayBuffer(4));

/** Normalizes a JS number to the IR scalar type's value set. */
export function normalize(type: ScalarType, x: number): number {
  switch (type) {
    case "f32":
      return Math.fround(x);
    case "f64":
      return x;
    case "i32":
      return x | 0;
    case "u32":
      return x >>> 0;
    case "bool":
      return x ? 1 : 0;
  }
}

/** Round half to even (IEEE roundTiesToEven on an integer grid). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function lanes(type: ValueType, f: (lane: number) => number): Value {
  return type.endsWith("x4") ? [0, 1, 2, 3].map(f) : f(0);
}
const lane = (v: Value, i: number): number => (typeof v === "number" ? v : v[i]);

function unaryScalar(op: string, type: ScalarType, x: number): number {
  switch (op) {
    case "neg":
      return normalize(type, -x);
    case "abs":
      return normalize(type, Math.abs(x));
    case "not":
      return type === "bool" ? (x ? 0 : 1) : normalize(type, ~x);
    case "clz":
      return Math.clz32(x);
    case "floor":
      return normalize(type, Math.floor(x));
    case "trunc":
      return normalize(type, Math.trunc(x));
    case "roundEven":
      return normalize(type, roundHalfEven(x));
    case "sqrt":
      return normalize(type, Math.sqrt(x));
  }
  throw new Error(`unknown unary op ${op}`);
}

function binaryScalar(op: string, type: ScalarType, a: number, b: number): number {
  if (type === "f32" || type === "f64") {
    // f32: the double result rounded to f32 is the correctly rounded f32 result for + − × ÷ and
    // sqrt (53 ≥ 2·24 + 2 bits, so the double rounding is innocuous); f64 results are kept.
    switch (op) {
      case "add":
        return normalize(type, a + b);
      case "sub":
        return normalize(type, a - b);
      case "mul":
        return normalize(type, a * b);
      case "div":
        return normalize(type, a / b);
      case "min":
        return Math.min(a, b);
      case "max":
        return Math.max(a, b);
    }
    throw new Error(`${type} has no ${op}`);
  }
  switch (op) {
    case "add":
      return normalize(type, a + b);
    case "sub":
      return normalize(type, a - b);
    case "mul":
      return normalize(type, Math.imul(a, b));
    case "div":
      return normalize(type, Math.trunc(a / b));
    case "min":
      return Math.min(a, b);
    case "max":
      return Math.max(a, b);
    case "and":
      return normalize(type, a & b);
    case "or":
      return normalize(type, a | b);
    case "xor":
      return normalize(type, a ^ b);
    case "shl":
      return normalize(type, a << b);
    case "shr":
      return type === "i32" ? a >> b : a >>> b;
  }
  throw new Error(`${type} has no ${op}`);
}

function compareScalar(op: string, a: number, b: number): number {
  switch (op) {
    case "eq":
      return a === b ? 1 : 0;
    case "ne":
      return a !== b ? 1 : 0;
    case "lt":
      return a < b ? 1 : 0;
    case "le":
      return a <= b ? 1 : 0;
    case "gt":
      return a > b ? 1 : 0;
    case "ge":
      return a >= b ? 1 : 0;
  }
  throw new Error(`unknown comparison ${op}`);
}

function convertScalar(op: string, x: number): number {
  switch (op) {
    case "f32.fromI32":
    case "f32.fromU32":
      return Math.fround(x);
    case "i32.fromF32":
      return Math.trunc(x) | 0;
    case "u32.fromF32":
      return Math.trunc(x) >>> 0;
    case "i32.fromU32":
      return x | 0;
    case "u32.fromI32":
    case "u32.fromBool":
      return x >>> 0;
    case "u32.bitsOfF32":
      scratch.setFloat32(0, x);
      return scratch.getUint32(0);
    case "f32.fromBits":
      scratch.setUint32(0, x >>> 0);
      return scratch.getFloat32(0);
    case "f64.fromF32":
    case "f64.fromI32":
      return x;
    case "f32.fromF64":
      return Math.fround(x);
  }
  throw new Error(`unknown conversion ${op}`);
}

/** Runs a kernel on the given buffers and scalars (buffers are modified in place). */
export function interpret(kernel: Kernel, args: KernelArgs): void {
  const env = new Map<string, Value>();
  const buffers = new Map<string, ArrayLike<number> & { [i: number]: number }>();
  for (const p of kernel.params) {
    const arg = args[p.name];
    if (arg === undefined) throw new Error(`${kernel.name}: missing argument ${p.name}`);
    if (p.kind === "buffer") {
      if (typeof arg === "number") throw new Error(`${kernel.name}: ${p.name} must be a buffer`);
      buffers.set(p.name, arg);
    } else {
      if (typeof arg !== "number") throw new Error(`${kernel.name}: ${p.name} must be a number`);
      env.set(p.name, normalize(p.type, arg));
    }
  }
  const tables = new Map(kernel.tables.map((t) => [t.name, t.values] as const));

  const buffer = (name: string) => {
    const b = buffers.get(name);
    if (b === undefined) throw new Error(`${kernel.name}: unknown buffer ${name}`);
    return b;
  };
  const checkIndex = (where: string, i: number, length: number) => {
    if (!(Number.isInteger(i) && i >= 0 && i < length)) throw new Error(`${kernel.name}: ${where} index ${i} out of range [0, ${length})`);
  };

  const evaluate = (e: Expr): Value => {
    switch (e.kind) {
      case "const":
        return e.value;
      case "ref": {
        const v = env.get(e.name);
        if (v === undefined) throw new Error(`${kernel.name}: ${e.name} used before definition`);
        return v;
      }
      case "unary": {
        const x = evaluate(e.arg);
        return lanes(e.type, (i) => unaryScalar(e.op, laneType(e.type), lane(x, i)));
      }
      case "binary": {
        const a = evaluate(e.a);
        const b = evaluate(e.b);
        return lanes(e.type, (i) => binaryScalar(e.op, laneType(e.type), lane(a, i), lane(b, i)));
      }
      case "compare": {
        const a = evaluate(e.a);
        const b = evaluate(e.b);
        return lanes(e.type, (i) => compareScalar(e.op, lane(a, i), lane(b, i)));
      }
      case "select": {
        const c = evaluate(e.cond);
        const t = evaluate(e.then);
        const f = evaluate(e.else);
        return lanes(e.type, (i) => (lane(c, i) ? lane(t, i) : lane(f, i)));
      }
      case "convert": {
        const x = evaluate(e.arg);
        return lanes(e.type, (i) => convertScalar(e.op, lane(x, i)));
      }
      case "load": {
        if (e.type === "f64") throw new Error(`${kernel.name}: f64 load from ${e.buffer} (f64 has no storage)`);
        const b = buffer(e.buffer);
        const i = lane(evaluate(e.index), 0);
        checkIndex(`load ${e.buffer}`, i, b.length);
        return normalize(e.type, b[i]);
      }
      case "lookup": {
        if (e.type === "f64") throw new Error(`${kernel.name}: f64 lookup in ${e.table} (tables hold no f64)`);
        const values = tables.get(e.table);
        if (values === undefined) throw new Error(`${kernel.name}: unknown table ${e.table}`);
        const i = lane(evaluate(e.index), 0);
        checkIndex(`table ${e.table}`, i, values.length);
        return normalize(e.type, values[i]);
      }
      case "splat": {
        const x = lane(evaluate(e.arg), 0);
        return [x, x, x, x];
      }
      case "extract":
        return lane(evaluate(e.arg), e.lane);
      default:
        return assertNever(e, "expression");
    }
  };

  const run = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      switch (s.kind) {
        case "let":
        case "var":
          env.set(s.name, evaluate(s.kind === "let" ? s.value : s.init));
          break;
        case "assign":
          if (!env.has(s.name)) throw new Error(`${kernel.name}: assignment to undeclared ${s.name}`);
          env.set(s.name, evaluate(s.value));
          break;
        case "store": {
          if (laneType(s.value.kind === "compare" ? "bool" : s.value.type) === "f64")
            throw new Error(`${kernel.name}: store of an f64 value to ${s.buffer} (f64 has no storage: convert with f32.fromF64)`);
          const b = buffer(s.buffer);
          const i = lane(evaluate(s.index), 0);
          checkIndex(`store ${s.buffer}`, i, b.length);
          b[i] = lane(evaluate(s.value), 0);
          break;
        }
        case "for": {
          const to = lane(evaluate(s.to), 0);
          for (let i = lane(evaluate(s.from), 0); i < to; i += s.step) {
            env.set(s.index, i);
            run(s.body);
          }
          break;
        }
        case "if":
          run(lane(evaluate(s.cond), 0) ? s.then : s.else);
          break;
        default:
          assertNever(s, "statement");
      }
    }
  };
  run(kernel.body);
}
