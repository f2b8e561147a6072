/**
 * Elementwise posit kernels (posit_add, _sub, _mul, _div, _fma, _sqrt) equal dsl/semantics/
 * posit-arith bit for bit: JS and WebAssembly on every pair of posit⟨8,0⟩ and ⟨8,2⟩ codes (every
 * code for sqrt, random triples for fma), WGSL on a real device the same for posit⟨8,0⟩, and
 * random operands with the specials (0, NaR, ±1, ±minpos, ±maxpos) for wider and odd formats,
 * among them ⟨32,0⟩ whose significands have the most bits.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { lowerPositOpElements } from "../../src/codegen/lower/posit-arith-elements.ts";
import type { KernelModule } from "../../src/codegen/ir/nodes.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { codeArray, type CodeArray } from "../../src/dsl/semantics/codes.ts";
import { POSIT_OP_ARITY, positOp, type PositOp } from "../../src/dsl/semantics/posit-arith.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { instantiateWgsl } from "../../src/targets/wgsl/runner.ts";
import { builtin } from "../support/formats.ts";
import { useWgslDevice } from "../targets/wgsl/gpu.ts";
import { positFormat, shapeOf } from "./support.ts";

const OPS = Object.keys(POSIT_OP_ARITY) as PositOp[];
const device = useWgslDevice();
let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});


/** Operand columns: every pair (every code for sqrt) of an 8-bit format, or fixed-seed random tuples with the specials. */
function operands(format: ResolvedFormat, op: PositOp, exhaustive: boolean): CodeArray[] {
  const { n } = shapeOf(format);
  const arity = POSIT_OP_ARITY[op];
  const size = 2 ** n;
  if (exhaustive && arity === 1) return [codeArray(n, size).map((_, i) => i)];
  if (exhaustive && arity === 2) return [codeArray(n, size * size).map((_, i) => i >> n), codeArray(n, size * size).map((_, i) => i % size)];
  const specials = [0, 2 ** (n - 1), 2 ** (n - 2), size - 2 ** (n - 2), 1, size - 1, 2 ** (n - 1) - 1, 2 ** (n - 1) + 1];
  let s = n * 7919 + arity;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % size);
  const count = 6000;
  return Array.from({ length: arity }, (_, j) => codeArray(n, count).map((_, i) => (i < specials.length ** 2 ? specials[j === 0 ? i % specials.length : Math.floor(i / specials.length) % specials.length] : next())));
}

const expected = (format: ResolvedFormat, op: PositOp, cols: readonly CodeArray[]) =>
  Array.from({ length: cols[0].length }, (_, i) => positOp(shapeOf(format), op, cols.map((c) => c[i])));

function mismatches(op: PositOp, cols: readonly CodeArray[], got: ArrayLike<number>, want: readonly number[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) if (got[i] !== want[i]) bad.push(`${op}(${cols.map((c) => c[i]).join(", ")}) → ${got[i]}, want ${want[i]}`);
  return bad;
}

type Sync = (...args: unknown[]) => unknown;

function checkTargets(format: ResolvedFormat, exhaustive: boolean, withWgsl: boolean): void {
  const module: KernelModule = { kernels: OPS.map((op) => lowerPositOpElements(format, op)) };
  describe(format.name, () => {
    // Operands and the semantics' results once per op, shared by the targets.
    const cases = new Map<PositOp, { cols: CodeArray[]; want: number[] }>();
    const caseOf = (op: PositOp) => {
      if (!cases.has(op)) {
        const cols = operands(format, op, exhaustive && op !== "fma");
        cases.set(op, { cols, want: expected(format, op, cols) });
      }
      return cases.get(op) as { cols: CodeArray[]; want: number[] };
    };
    const run = async (kernels: Readonly<Record<string, unknown>>, op: PositOp) => {
      const { cols, want } = caseOf(op);
      const out = codeArray(shapeOf(format).n, cols[0].length);
      await (kernels[`posit_${op}`] as Sync)(...cols, out, out.length);
      expect(mismatches(op, cols, out, want)).toEqual([]);
    };
    it("JS", async () => {
      const js = loadJs(module);
      for (const op of OPS) await run(js, op);
    });
    it("WebAssembly (SIMD build and scalar)", async () => {
      for (const vectorize of [true, false]) {
        const wasm = instantiateWasm(compileWasmWith(assembler, module, { vectorize })).kernels;
        for (const op of OPS) await run(wasm, op);
      }
    });
    if (withWgsl) {
      it("WGSL on a WebGPU device", async () => {
        const wgsl = (await instantiateWgsl(compileWgsl(module), await device())).kernels;
        for (const op of OPS) await run(wgsl, op);
      });
    }
  });
}

checkTargets(builtin("posit8"), true, true);
checkTargets(builtin("posit8es2"), true, false);
for (const name of ["posit16", "posit16es2", "posit32es2"]) checkTargets(builtin(name), false, name === "posit16es2");
for (const [bits, es] of [[32, 0], [32, 1], [3, 0], [5, 1], [12, 3], [20, 2], [6, 4]]) checkTargets(positFormat(bits, es), false, bits === 32 && es === 0);
