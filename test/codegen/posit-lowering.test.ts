/**
 * Posit element lowering (src/codegen/lower/posit-element.ts) against the exact semantics,
 * bit for bit: decode of every code (sampled for > 16 bits) equals decodeF32Bits, encode of
 * random float32 bit patterns, of in-range values and of every pattern tie (±1 ulp) equals
 * encodePosit; the rendered JS agrees with the IR interpreter; the element IR stays
 * branch-free (what WGSL and WebAssembly SIMD need) and integer-only, but for the lane-wise encode
 * of posits of ≤ 16 bits, whose float32 arithmetic is exact on normal values (no rounding a GPU
 * could do differently, nothing a GPU could flush).
 */
import { describe, expect, it } from "vitest";
import { Effect } from "effect";
import type { ResolvedFormat, ResolvedPosit } from "../../src/dsl/resolved.ts";
import { resolveFormat } from "../../src/dsl/resolve.ts";
import { validateSpec } from "../../src/dsl/validate.ts";
import { createRegistry } from "../../src/dsl/registry.ts";
import { decodePosit, encodePosit } from "../../src/dsl/semantics/posit.ts";
import { decodeF32Bits } from "../../src/dsl/semantics/scalar.ts";
import { i32, kernel, load, ref, type Builder } from "../../src/codegen/ir/build.ts";
import type { Expr, Kernel, KernelModule } from "../../src/codegen/ir/nodes.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { codeStorage, lowerDecodeElements, lowerEncodeElements } from "../../src/codegen/lower/elementwise.ts";
import { lowerPositDecode, lowerPositEncode } from "../../src/codegen/lower/posit-element.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { builtin } from "../support/formats.ts";

const registry = createRegistry();

/** posit⟨bits, es⟩ resolved from a spec, the way a user's format file would be. */
function positFormat(bits: number, es: number): ResolvedFormat {
  const spec = { name: `posit${bits}es${es}`, summary: `posit<${bits},${es}>`, element: { kind: "posit", bits, es }, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" } };
  return Effect.runSync(Effect.flatMap(validateSpec(spec, "test"), (s) => resolveFormat(s, "test", registry.get)));
}

const FORMATS: readonly ResolvedFormat[] = [
  ...["posit8", "posit8es2", "posit16", "posit16es2", "posit32es2"].map(builtin),
  ...[[3, 0], [3, 5], [5, 1], [5, 5], [9, 4], [12, 3], [24, 2], [32, 0], [32, 1]].map(([bits, es]) => positFormat(bits, es)),
];

const shape = (f: ResolvedFormat) => f.element as ResolvedPosit;
const hex = (x: number) => `0x${(x >>> 0).toString(16)}`;

/** Deterministic u32 stream (mulberry32), so every failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
const bitsOfF32 = (x: number) => ((f32Scratch[0] = x), u32Scratch[0]);
const f32OfBits = (bits: number) => ((u32Scratch[0] = bits >>> 0), f32Scratch[0]);

function codeArray(format: ResolvedFormat, length: number): Uint8Array | Uint16Array | Uint32Array {
  const storage = codeStorage(format);
  return storage === "u8" ? new Uint8Array(length) : storage === "u16" ? new Uint16Array(length) : new Uint32Array(length);
}

/** A decode kernel that calls lowerPositDecode directly (element.ts would use a table for ≤ 8 bits). */
function directDecodeKernel(format: ResolvedFormat): Kernel {
  return kernel(
    "decode_direct",
    [
      { kind: "buffer", name: "codes", storage: "u32", access: "read" },
      { kind: "buffer", name: "out", storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ],
    (b: Builder) =>
      b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, lowerPositDecode(body, format, load("u32", "codes", i)))),
  );
}

const jsKernel = (k: Kernel) => loadJs({ kernels: [k] } satisfies KernelModule)[k.name];

/** Fails with the count and the first few mismatches. */
function expectNoMismatches(what: string, mismatches: readonly string[], total: number): void {
  expect(mismatches.length, `${what}: ${mismatches.length} of ${total} mismatch; first:\n  ${mismatches.slice(0, 8).join("\n  ")}`).toBe(0);
}

/** The codes to decode: all of them up to 16 bits; else 2^20 spread over the space plus the edges. */
function decodeCodes(format: ResolvedFormat): Uint32Array {
  const n = shape(format).bits;
  if (n <= 16) return Uint32Array.from({ length: 2 ** n }, (_, c) => c);
  const next = rng(n * 1000 + shape(format).es);
  const stride = 2 ** (n - 20);
  const codes: number[] = Array.from({ length: 2 ** 20 }, (_, i) => i * stride + (next() % stride));
  const nar = 2 ** (n - 1);
  for (let d = -3; d <= 3; d++) codes.push(nar + d, (2 ** n + d) % 2 ** n);
  for (let j = 0; j < n; j++) for (const c of [2 ** j - 1, 2 ** j, 2 ** j + 1, 2 ** n - 2 ** j]) codes.push(c);
  return Uint32Array.from(codes.filter((c) => c >= 0 && c < 2 ** n));
}

/** Exact value of a positive (m)-bit posit pattern for m ≤ 33 (decodePosit stops at 32 bits). */
function patternValue(m: number, es: number, pattern: number): number {
  const bit = (i: number) => Math.floor(pattern / 2 ** i) % 2;
  let i = m - 2;
  const regimeBit = bit(i);
  let run = 0;
  while (i >= 0 && bit(i) === regimeBit) run++, i--;
  i--; // the terminating bit, if any
  let exponent = 0;
  for (let j = 0; j < es; j++, i--) exponent = 2 * exponent + (i >= 0 ? bit(i) : 0);
  let fraction = 1;
  for (let weight = 0.5; i >= 0; i--, weight /= 2) fraction += bit(i) * weight;
  const k = regimeBit === 1 ? run - 1 : -run;
  return fraction * 2 ** (k * 2 ** es + exponent);
}

/**
 * Codes c whose tie with c + 1 (the (n+1)-bit pattern 2c+1) is exact in float32: all of them
 * up to 16 bits; else, per regime length and polarity, random continuations of the regime.
 */
function tieCodes(format: ResolvedFormat): number[] {
  const { bits: n } = shape(format);
  const nar = 2 ** (n - 1);
  if (n <= 16) return Array.from({ length: nar - 2 }, (_, i) => i + 1);
  const next = rng(7 * n);
  const codes: number[] = [];
  for (let length = 2; length <= n - 1; length++) {
    const restBits = n - 1 - length;
    const ones = 2 ** (n - 1) - 2 ** (restBits + 1); // length−1 ones then a zero
    const zeros = 2 ** restBits; // length−1 zeros then a one
    for (const regime of [ones, zeros])
      for (let s = 0; s < 256; s++) {
        const rest = s === 0 ? 0 : s === 1 ? 2 ** restBits - 1 : (next() * 2 ** 21 + (next() >>> 11)) % 2 ** restBits;
        codes.push(regime + rest);
      }
  }
  return codes.filter((c) => c >= 1 && c <= nar - 2);
}

/** Encode inputs: random bit patterns, values spread over the posit's range, specials, ties ± 1 ulp. */
function encodeInputs(format: ResolvedFormat): { inputs: Float32Array; ties: number } {
  const { bits: n, es } = shape(format);
  const maxScale = (n - 2) * 2 ** es;
  const next = rng(n * 64 + es);
  const bits: number[] = [];
  for (let i = 0; i < 2 ** 17; i++) bits.push(next());
  for (let i = 0; i < 2 ** 17; i++) {
    const field = Math.min(255, Math.max(0, 127 - maxScale - 3 + (next() % (2 * maxScale + 7))));
    bits.push(((next() & 0x807fffff) | (field << 23)) >>> 0);
  }
  const edges = [0, 1, 0x7fffff, 0x800000, 0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff, 0x3f800000];
  for (const scale of [maxScale, -maxScale]) for (const d of [-2, -1, 0, 1, 2]) edges.push((((scale + 127) << 23) + d) >>> 0);
  for (const e of edges) bits.push(e, (e | 0x80000000) >>> 0);

  let ties = 0;
  for (const c of tieCodes(format)) {
    const t = patternValue(n + 1, es, 2 * c + 1);
    if (Math.fround(t) !== t) continue;
    ties++;
    const tb = bitsOfF32(t);
    for (const b of [tb - 1, tb, tb + 1]) bits.push(b >>> 0, (b | 0x80000000) >>> 0);
  }
  return { inputs: new Float32Array(Uint32Array.from(bits).buffer), ties };
}

describe.each(FORMATS.map((f) => [f.name, f] as const))("posit lowering: %s", (_, format) => {
  const { bits: n, es } = shape(format);

  it("decode gives decodeF32Bits for every code (2^20 spread codes above 16 bits)", () => {
    const codes = decodeCodes(format);
    const direct = new Float32Array(codes.length);
    jsKernel(directDecodeKernel(format))(codes, direct, codes.length);
    const viaElementwise = new Float32Array(codes.length);
    const stored = codeArray(format, codes.length);
    stored.set(codes);
    jsKernel(lowerDecodeElements(format))(stored, viaElementwise, codes.length);
    const directBits = new Uint32Array(direct.buffer);
    const elementwiseBits = new Uint32Array(viaElementwise.buffer);
    const mismatches: string[] = [];
    for (let i = 0; i < codes.length; i++) {
      const want = decodeF32Bits(format, codes[i]);
      if (directBits[i] !== want || elementwiseBits[i] !== want)
        mismatches.push(`code ${hex(codes[i])}: direct ${hex(directBits[i])}, elementwise ${hex(elementwiseBits[i])}, want ${hex(want)}`);
    }
    expectNoMismatches(`decode ${format.name}`, mismatches, codes.length);
  });

  it("encode gives encodePosit for random bit patterns, in-range values, edges and pattern ties ± 1 ulp", () => {
    const { inputs, ties } = encodeInputs(format);
    expect(inputs.length).toBeGreaterThan(2 * 10 ** 5);
    expect(ties).toBeGreaterThan(Math.min(2 ** (n - 1) - 2, 1000) * (n <= 16 ? 0.5 : 1));
    const codes = codeArray(format, inputs.length);
    jsKernel(lowerEncodeElements(format))(inputs, codes, inputs.length, 0);
    const mismatches: string[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const want = encodePosit(n, es, inputs[i]);
      if (codes[i] !== want) mismatches.push(`x ${inputs[i]} (${hex(bitsOfF32(inputs[i]))}): got ${hex(codes[i])}, want ${hex(want)}`);
    }
    expectNoMismatches(`encode ${format.name}`, mismatches, inputs.length);
  });

  it("tie points decode between their neighbours and encode to the even one", () => {
    const checked = tieCodes(format).slice(0, 4096);
    for (const c of checked) {
      const t = patternValue(n + 1, es, 2 * c + 1);
      if (n + 1 <= 32) expect(t).toBe(decodePosit(n + 1, es, 2 * c + 1));
      expect(t).toBeGreaterThan(decodePosit(n, es, c));
      expect(t).toBeLessThan(decodePosit(n, es, c + 1));
      if (Math.fround(t) === t) expect(encodePosit(n, es, t)).toBe(c % 2 === 0 ? c : c + 1);
    }
  });

  it("the rendered JS agrees with the IR interpreter", () => {
    const next = rng(99 + n);
    const { inputs: all } = encodeInputs(format);
    const inputs = Float32Array.from({ length: 3000 }, () => all[next() % all.length]);
    const encode = lowerEncodeElements(format);
    const fromJs = codeArray(format, inputs.length);
    const fromIr = codeArray(format, inputs.length);
    jsKernel(encode)(inputs, fromJs, inputs.length, 0);
    interpret(encode, { x: inputs, codes: fromIr, n: inputs.length, seed: 0 });
    expect(Array.from(fromJs)).toEqual(Array.from(fromIr));

    const codes = Uint32Array.from({ length: 3000 }, () => (n === 32 ? next() : next() % 2 ** n));
    const decode = directDecodeKernel(format);
    const outJs = new Float32Array(codes.length);
    const outIr = new Float32Array(codes.length);
    jsKernel(decode)(codes, outJs, codes.length);
    interpret(decode, { codes, out: outIr, n: codes.length });
    expect(Array.from(new Uint32Array(outJs.buffer))).toEqual(Array.from(new Uint32Array(outIr.buffer)));
  });

  it("the element IR is branch-free and integer-only (the ≤ 16-bit encode: exact float32 sums, products and roundEven), with constant shifts below 32", () => {
    const element = (lower: (b: Builder, e: Expr) => Expr, input: Expr) =>
      kernel("element", [], (b) => void lower(b, input)).body;
    const laneWise = (format.element as ResolvedPosit).bits <= 16;
    // The lane-wise encode's float32 arithmetic: each result is exact (its comments say why), so every IEEE target agrees.
    const encodeFloatOps = laneWise ? new Set(["f32 add", "f32 sub", "f32 mul", "f32 roundEven", "conversion f32.fromI32"]) : new Set<string>();
    const check = (statements: ReturnType<typeof element>, floatOps: ReadonlySet<string>) => {
      const allowedConversions = new Set(["u32.bitsOfF32", "f32.fromBits", "i32.fromU32", "u32.fromI32", "u32.fromBool"]);
      const problems: string[] = [];
      const problem = (what: string) => {
        if (!floatOps.has(what)) problems.push(what);
      };
      const visit = (e: Expr): void => {
        switch (e.kind) {
          case "unary":
            if (e.type === "f32") problem(`f32 ${e.op}`);
            return visit(e.arg);
          case "binary":
            if (e.type === "f32") problem(`f32 ${e.op}`);
            if ((e.op === "shl" || e.op === "shr") && e.b.kind === "const" && !(e.b.value >= 0 && e.b.value < 32)) problems.push(`constant shift by ${e.b.value}`);
            visit(e.a);
            return visit(e.b);
          case "compare":
            if (e.a.kind !== "const" && "type" in e.a && e.a.type === "f32") problems.push("f32 compare");
            visit(e.a);
            return visit(e.b);
          case "select":
            visit(e.cond);
            visit(e.then);
            return visit(e.else);
          case "convert":
            if (!allowedConversions.has(e.op)) problem(`conversion ${e.op}`);
            return visit(e.arg);
          case "const":
          case "ref":
            return;
          default:
            problems.push(`${e.kind} node`);
        }
      };
      for (const s of statements) {
        if (s.kind !== "let") problems.push(`${s.kind} statement`);
        else visit(s.value);
      }
      return problems;
    };
    expect(check(element((b, x) => lowerPositEncode(b, format, x), ref("f32", "x")), encodeFloatOps)).toEqual([]);
    expect(check(element((b, c) => lowerPositDecode(b, format, c), ref("u32", "c")), new Set())).toEqual([]);
  });
});

describe("posit lowering limits", () => {
  it("refuses a posit whose range leaves the f32 normals (the resolver rejects it too)", () => {
    const posit32es3 = { ...builtin("posit32es2"), name: "posit32es3", element: { kind: "posit", bits: 32, es: 3 } } as ResolvedFormat;
    expect(() => kernel("k", [], (b) => void lowerPositEncode(b, posit32es3, ref("f32", "x")))).toThrow(/2\^es/);
    expect(() => kernel("k", [], (b) => void lowerPositDecode(b, posit32es3, ref("u32", "c")))).toThrow(/2\^es/);
    expect(() => positFormat(32, 3)).toThrow();
  });
});
