/**
 * Block-scaled recipes in training: the operands of a linear layer's GEMMs are blocked along that GEMM's
 * reduction axis K, in each orientation, quantized from the high-precision tensor (the runtime
 * views an operand as lanes × K through its channel layout; block scaling's tiles are laid out on
 * those rows). Checked exactly against the semantics for a linear layer (X and W in both
 * orientations) and the embedding (the table D lanes × V, its gradient D lanes × L), and by a
 * property of every GEMM's operands for conv2d (the im2col matrix is quantized) and attention's
 * per-head GEMMs (no lane crosses a head).
 */
import * as Effect from "effect/Effect";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { fakeQuantize } from "../../src/dsl/semantics/tensor.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import type { ResolvedRecipe } from "../../src/recipes/types.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { mul, sum } from "../../src/runtime/ops/elementwise.ts";
import { attention } from "../../src/runtime/ops/attention.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { embedding } from "../../src/runtime/ops/embedding.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor } from "../../src/runtime/tensor.ts";

const BLOCK = 4;
const backend = createJsBackend();
const formats = createRegistry();

/** mxfp8 with blocks of 4, for every GEMM operand (so small layers hold many blocks and partial ones). */
function blockRecipe(): ResolvedRecipe {
  const dir = mkdtempSync(join(tmpdir(), "numforge-block-recipe-"));
  const file = join(dir, "mx4.json");
  const mx4 = { format: "mxfp8", scaling: { kind: "block", granularity: { block: BLOCK }, scale: { format: "e8m0", rounding: "floor" } } };
  writeFileSync(file, JSON.stringify({
    name: "mx4", summary: "mxfp8 in blocks of 4 for every GEMM operand", master: "fp32",
    roles: { weights: mx4, activations: mx4, errors: mx4, weightGradients: "fp32", optimizerState: "fp32" },
  }));
  return Effect.runSync(createRecipeRegistry(formats).get(file));
}
const recipe = blockRecipe();
const format: ResolvedFormat = recipe.roles.weights;

function spying(inner: Backend): Backend & { calls: GemmParams[] } {
  const calls: GemmParams[] = [];
  return { name: "spy", calls, gemm: (p) => { calls.push({ ...p, a: p.a.slice(0, p.m * p.k), b: p.b.slice(0, p.k * p.n) }); inner.gemm(p); } };
}

const opA = (c: GemmParams) => (i: number, p: number) => c.a[c.transA ? p * c.m + i : i * c.k + p];
const opB = (c: GemmParams) => (p: number, j: number) => c.b[c.transB ? j * c.k + p : p * c.n + j];

const e4m3 = Effect.runSync(formats.get("e4m3"));
const isE4m3 = (q: number) => Object.is(decode(e4m3, encode(e4m3, q)), q) || q === 0;

/**
 * The first block of B consecutive steps along K (in one lane) that is not e4m3 values × one
 * power of two 2^E with E = ⌊log2 amax⌋ − 8 (MX floor: E8M0 scale, E4M3 elements), or null.
 */
function notBlockedAlongK(value: (lane: number, depth: number) => number, lanes: number, depth: number): string | null {
  for (let l = 0; l < lanes; l++)
    for (let p0 = 0; p0 < depth; p0 += BLOCK) {
      const block = Array.from({ length: Math.min(BLOCK, depth - p0) }, (_, d) => value(l, p0 + d));
      const amax = Math.max(...block.map(Math.abs));
      if (amax === 0 || !Number.isFinite(amax)) continue;
      const e = Math.floor(Math.log2(amax)) - 8;
      const bad = block.findIndex((v) => !isE4m3(v / 2 ** e));
      if (bad >= 0) return `lane ${l}, steps ${p0}..${p0 + block.length - 1}: ${block[bad]} is not an e4m3 value × 2^${e}`;
    }
  return null;
}

function expectEveryGemmBlockedAlongK(calls: readonly GemmParams[]): void {
  for (const [index, call] of calls.entries()) {
    expect(notBlockedAlongK(opA(call), call.m, call.k), `GEMM ${index} (${call.m}×${call.n}×${call.k}): rows of op(A)`).toBeNull();
    expect(notBlockedAlongK((j, p) => opB(call)(p, j), call.n, call.k), `GEMM ${index}: columns of op(B)`).toBeNull();
  }
}

/** Rows spanning 2^0 … 2^−5, so blocks across rows would mix scales. */
function spread(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, (_, i) => rng.normal() * 2 ** -((Math.floor(i / cols) + (i % cols)) % 6));
}

describe("linear: each GEMM's operands are blocked along its own K, from the high-precision tensors", () => {
  const [batch, inputs, outputs] = [9, 10, 12];
  const x = spread(batch, inputs, 5);
  const w = spread(outputs, inputs, 11);
  const spy = spying(backend);
  const ctx = trainContext(spy, new RecipePrecision(recipe, backend.kernels, 3));
  const xt = new Tensor([batch, inputs], x.slice(), true);
  const wt = parameter("fc.weight", [outputs, inputs], w.slice());
  ctx.tape.backward(sum(ctx, linear(ctx, xt, wt, null, "fc")));
  const [forward, inputGradient, weightGradient] = spy.calls;
  const along = (m: Float32Array, rows: number, blockAxis: 0 | 1) => Array.from(fakeQuantize(format, m, { channels: rows, blockAxis }).values);

  it("forward Y = X·Wᵀ (K = inputs): X and W blocked along their rows", () => {
    expect(Array.from(forward.a)).toEqual(along(x, batch, 1));
    expect(Array.from(forward.b)).toEqual(along(w, outputs, 1));
  });

  it("input gradient dX = dY·W (K = outputs): W blocked down its columns, a second quantization of the fp32 weights", () => {
    expect(Array.from(inputGradient.b)).toEqual(along(w, outputs, 0));
    expect(along(w, outputs, 0)).not.toEqual(along(w, outputs, 1));
  });

  it("weight gradient dW = dYᵀ·X (K = batch): X blocked down its columns", () => {
    expect(Array.from(weightGradient.b)).toEqual(along(x, batch, 0));
  });

  it("the property check tells the orientations apart", () => {
    expectEveryGemmBlockedAlongK(spy.calls);
    // W as the forward GEMM quantized it, read along the input-gradient GEMM's K, is not blocked there.
    expect(notBlockedAlongK((j, p) => forward.b[p * inputs + j], inputs, outputs)).not.toBeNull();
  });
});

describe("conv2d: the im2col matrix is blocked along each GEMM's K", () => {
  const [n, c, h, wd, f, k] = [2, 3, 5, 4, 5, 3];
  const x = spread(n * c, h * wd, 7);
  const w = spread(f, c * k * k, 13);
  const spy = spying(backend);
  const ctx = trainContext(spy, new RecipePrecision(recipe, backend.kernels, 3));
  const xt = new Tensor([n, c, h, wd], x.slice(), true);
  const wt = parameter("conv.weight", [f, c, k, k], w.slice());
  // An error that varies (a plain sum's is all ones, representable in any blocking): the output times spread values.
  const out = conv2d(ctx, xt, wt, null, "conv", { padding: 1 });
  const dy = spread(n * f, h * wd, 29);
  ctx.tape.backward(sum(ctx, mul(ctx, out, new Tensor(out.shape, dy.slice(), false))));

  it("forward (K = C·KH·KW), weight gradient (K = N·OH·OW) and input gradient (K = F): every operand", () => {
    expect(spy.calls.length).toBe(3);
    expectEveryGemmBlockedAlongK(spy.calls);
  });

  it("the error: each GEMM's operand quantized from the raw error along that GEMM's K, exactly as the semantics", () => {
    // dY channel-major, F × N·OH·OW (padding 1 keeps H × W): the weight gradient's A (K = N·OH·OW along
    // its rows), the input gradient's B (K = F down its columns).
    const spatial = h * wd;
    const cols = n * spatial;
    const raw = new Float32Array(f * cols);
    for (let fi = 0; fi < f; fi++) for (let ni = 0; ni < n; ni++) for (let j = 0; j < spatial; j++) raw[fi * cols + ni * spatial + j] = dy[(ni * f + fi) * spatial + j];
    const [, weightGradient, inputGradient] = spy.calls;
    expect(Array.from(weightGradient.a)).toEqual(Array.from(fakeQuantize(format, raw, { channels: f, blockAxis: 1 }).values));
    expect(Array.from(inputGradient.b)).toEqual(Array.from(fakeQuantize(format, raw, { channels: f, blockAxis: 0 }).values));
  });
});

describe("attention: the per-head GEMMs are blocked along their K, no lane crossing heads", () => {
  const [batch, t, width, heads] = [2, 6, 8, 2];
  const spy = spying(backend);
  const ctx = trainContext(spy, new RecipePrecision(recipe, backend.kernels, 3));
  const inputs = [17, 19, 23].map((seed) => new Tensor([batch, t, width], spread(batch * t, width, seed), true));
  ctx.tape.backward(sum(ctx, attention(ctx, inputs[0], inputs[1], inputs[2], { heads, site: "attn" })));

  it("scores Q·Kᵀ, context P·V and their gradients: every operand of every head's GEMM", () => {
    expect(spy.calls.length).toBe(6 * batch * heads);
    expectEveryGemmBlockedAlongK(spy.calls);
  });
});

describe("embedding: one-hot · table, blocked along the table's rows (K = V) and the gradient along the positions (K = L)", () => {
  const [vocab, dim] = [10, 6];
  const indices = [3, 0, 7, 9, 1, 4, 8];
  const table = spread(vocab, dim, 29);
  const ctx = trainContext(backend, new RecipePrecision(recipe, backend.kernels, 3));
  const tt = parameter("emb.weight", [vocab, dim], table.slice());
  const out = embedding(ctx, tt, indices, "emb");
  const gradient = spread(indices.length, dim, 31);
  ctx.tape.backward(sum(ctx, mul(ctx, out, new Tensor([indices.length, dim], gradient.slice(), false))));

  it("the looked-up rows come from the table quantized down its columns", () => {
    const q = fakeQuantize(format, table, { channels: vocab, blockAxis: 0 }).values;
    const want = indices.flatMap((r) => Array.from(q.subarray(r * dim, (r + 1) * dim)));
    expect(Array.from(out.data)).toEqual(want);
  });

  it("the table's gradient rows are the error quantized down its columns (L positions)", () => {
    const q = fakeQuantize(format, gradient, { channels: indices.length, blockAxis: 0 }).values;
    for (const [i, r] of indices.entries()) expect(Array.from(tt.grad!.subarray(r * dim, (r + 1) * dim)), `row ${r}`).toEqual(Array.from(q.subarray(i * dim, (i + 1) * dim)));
  });
});
