/**
 * A recipe reaches every GEMM of the Transformer, attention's score and context GEMMs included:
 * under e5m2 every operand of every forward and backward GEMM is an e5m2 value; under ShiftQuant
 * (one power-of-two scale per group of channels) every attention operand is scaled along the
 * axis its GEMM does not sum.
 */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry, loadFormat } from "../../src/dsl/registry.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { vocabulary } from "../../src/runtime/data/cmudict.ts";
import { g2pBatch } from "../../src/runtime/data/g2p-batch.ts";
import { createTransformer } from "../../src/runtime/models/transformer.ts";
import { attention } from "../../src/runtime/ops/attention.ts";
import { sum } from "../../src/runtime/ops/elementwise.ts";
import { Rng } from "../../src/runtime/random.ts";
import { teacherForcedLoss } from "../../src/runtime/tasks/transformer.ts";
import { Tensor } from "../../src/runtime/tensor.ts";

const recipes = createRecipeRegistry(createRegistry());
const backend = createJsBackend();
const precisionOf = (name: string) => new RecipePrecision(Effect.runSync(recipes.get(name)), backend.kernels, 3);

function spying(inner: Backend): Backend & { calls: GemmParams[] } {
  const calls: GemmParams[] = [];
  return { name: "spy", calls, gemm: (p) => { calls.push({ ...p, a: p.a.slice(0, p.m * p.k), b: p.b.slice(0, p.k * p.n) }); inner.gemm(p); } };
}

/** op(A)(i, p) and op(B)(p, j) of a recorded call. */
const opA = (c: GemmParams) => (i: number, p: number) => c.a[c.transA ? p * c.m + i : i * c.k + p];
const opB = (c: GemmParams) => (p: number, j: number) => c.b[c.transB ? j * c.k + p : p * c.n + j];

describe("every Transformer GEMM sees the recipe's values", () => {
  it("e5m2: one training step of a tiny Transformer, 17 linear layers × 3 GEMMs and 3 attentions × 4 (batch, head) blocks × 6 GEMMs", () => {
    const e5m2 = loadFormat("e5m2");
    const model = createTransformer({ sourceVocab: 9, targetVocab: 7, dModel: 8, heads: 2, ffnSize: 16, encoderLayers: 1, decoderLayers: 1, seed: 4 });
    const letters = vocabulary(["A", "B", "C", "D", "E", "F"]);
    const phonemes = vocabulary(["X", "Y", "Z", "W"]);
    const batch = g2pBatch([{ word: "ABCDE", phonemes: ["X", "Y"] }, { word: "FA", phonemes: ["Z", "W", "X"] }], letters, phonemes);
    const spy = spying(backend);
    const ctx = trainContext(spy, precisionOf("e5m2"));
    ctx.tape.backward(teacherForcedLoss(ctx, model, batch, 0.1));
    expect(spy.calls.length).toBe(17 * 3 + 3 * 4 * 6);
    const notE5m2: number[] = [];
    for (const call of spy.calls) {
      for (const operand of [call.a, call.b]) {
        for (const v of operand) if (!Object.is(decode(e5m2, encode(e5m2, v)), v) && v !== 0) notE5m2.push(v);
      }
    }
    expect(notE5m2).toEqual([]);
    // And the recipe really rounded something: fp32 operands are rarely e5m2 values.
    const plain = spying(backend);
    const fp32 = trainContext(plain);
    fp32.tape.backward(teacherForcedLoss(fp32, model, batch, 0.1));
    const exact = plain.calls.flatMap((c) => [...c.a, ...c.b]).filter((v) => Object.is(decode(e5m2, encode(e5m2, v)), v)).length;
    expect(exact).toBeLessThan(plain.calls.reduce((n, c) => n + c.a.length + c.b.length, 0) / 2);
  });
});

describe("ShiftQuant: attention operands are scaled per channel along the axis each GEMM does not sum", () => {
  const MAX_INT = 7;

  /** The first lane that is not integers × 2^e with |integer| ≤ 7, e from the lane's own amax, or null. */
  function notLaneScaled(value: (lane: number, depth: number) => number, lanes: number, depth: number): string | null {
    for (let l = 0; l < lanes; l++) {
      let amax = 0;
      for (let p = 0; p < depth; p++) amax = Math.max(amax, Math.abs(value(l, p)));
      if (amax === 0) continue;
      let e = Math.ceil(Math.log2(amax / MAX_INT));
      while (amax > MAX_INT * 2 ** e) e++;
      for (let p = 0; p < depth; p++) {
        const q = value(l, p) / 2 ** e;
        if (!Number.isInteger(q) || Math.abs(q) > MAX_INT) return `lane ${l}, step ${p}: ${value(l, p)} is not an integer × 2^${e}`;
      }
    }
    return null;
  }

  /** [B, T, D] with magnitudes spread over rows and columns by powers of two, so one scale per tensor would not do. */
  function spread(shape: number[], seed: number): Tensor {
    const rng = new Rng(seed);
    const [, t, d] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    return new Tensor(shape, Float32Array.from({ length: n }, (_, i) => rng.normal() * 2 ** ((i % d) % 4 - (Math.floor(i / d) % t) % 3)), true);
  }

  it("rows of op(A) and columns of op(B) are each integers × one power of two, in all six GEMMs of every block", () => {
    const spy = spying(backend);
    const ctx = trainContext(spy, precisionOf("shiftquant4"));
    const [q, k, v] = [spread([2, 3, 8], 1), spread([2, 5, 8], 2), spread([2, 5, 8], 3)];
    ctx.tape.backward(sum(ctx, attention(ctx, q, k, v, { heads: 2, site: "attn", keyPadding: [0, 0, 0, 1, 1, 0, 0, 0, 0, 0] })));
    expect(spy.calls.length).toBe(4 * 6);
    const problems = spy.calls.flatMap((c, i) => {
      const rows = notLaneScaled((lane, p) => opA(c)(lane, p), c.m, c.k);
      const cols = notLaneScaled((lane, p) => opB(c)(p, lane), c.n, c.k);
      return [rows && `call ${i} A: ${rows}`, cols && `call ${i} B: ${cols}`].filter((x) => x !== null);
    });
    expect(problems).toEqual([]);
  });
});
