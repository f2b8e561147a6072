/**
 * Rotations in training: a recipe's Hadamard rotation of a GEMM turns both of that GEMM's
 * operands along its K before they are quantized — checked exactly against the semantics
 * (rotate, then quantize) for a linear layer's weight-gradient GEMM under NVFP4 — leaves the
 * other GEMMs alone, keeps the product (a full-precision recipe with rotations gives the same
 * gradients within the rotation's rounding), and never reaches the bias gradient. The rotation runs
 * as the first step of the format's own plan (rotatedPlan): on wasm, one thread and two, as on JS.
 */
import * as Effect from "effect/Effect";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { fakeQuantize } from "../../src/dsl/semantics/tensor.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import type { ResolvedRecipe } from "../../src/recipes/types.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { jsKernelSource, wasmKernelSource, type KernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { rowChannels } from "../../src/runtime/precision.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { mul, sum } from "../../src/runtime/ops/elementwise.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { identityPrecision, type Precision } from "../../src/runtime/precision.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor } from "../../src/runtime/tensor.ts";
import { rotate } from "../../src/scaling/rotation/semantics.ts";

const backend = createJsBackend();
const formats = createRegistry();
const ROTATION = { kind: "hadamard", size: 16, signSeed: 16 } as const;

function recipeOf(name: string, roles: Record<string, unknown>, gemms: Record<string, unknown>): ResolvedRecipe {
  const dir = mkdtempSync(join(tmpdir(), "numforge-rotation-recipe-"));
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, summary: name, master: "fp32", roles: { weightGradients: "fp32", optimizerState: "fp32", ...roles }, gemms }));
  return Effect.runSync(createRecipeRegistry(formats).get(file));
}

const nvfp4Tiles = {
  format: "nvfp4", name: "nvfp4-tile16x16",
  scaling: { kind: "block", granularity: { tile: [16, 16] }, scale: { format: "e4m3", rounding: "nearest-even" }, tensorScale: { format: "fp32" } },
};
const nvfp4 = recipeOf("nv", { weights: nvfp4Tiles, activations: "nvfp4", errors: "nvfp4" }, { weightGradient: { rotation: ROTATION } });
const fp32Rotated = recipeOf("rot", { weights: "fp32", activations: "fp32", errors: "fp32" }, { weightGradient: { rotation: ROTATION }, inputGradient: { rotation: { kind: "hadamard", size: 16 } } });

function spying(inner: Backend): Backend & { calls: GemmParams[] } {
  const calls: GemmParams[] = [];
  return { name: "spy", calls, gemm: (p) => { calls.push({ ...p, a: p.a.slice(0, p.m * p.k), b: p.b.slice(0, p.k * p.n) }); inner.gemm(p); } };
}

const random = (length: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.normal() * (rng.uniform() < 0.05 ? 30 : 1));
};
const transpose = (m: Float32Array, rows: number, cols: number) => Float32Array.from({ length: m.length }, (_, i) => m[(i % rows) * cols + Math.floor(i / rows)]);

// K of the weight-gradient GEMM is the batch: two full blocks of 16 and a tail of 5.
const [batch, inputs, outputs] = [37, 20, 18];
const x = random(batch * inputs, 1);
const w = random(outputs * inputs, 2);
const b = random(outputs, 3);
const upstream = random(batch * outputs, 4);

function run(precision: Precision) {
  const spy = spying(backend);
  const ctx = trainContext(spy, precision);
  const xt = new Tensor([batch, inputs], x.slice(), true);
  const wt = parameter("fc.weight", [outputs, inputs], w.slice());
  const bt = parameter("fc.bias", [outputs], b.slice());
  ctx.tape.backward(sum(ctx, mul(ctx, linear(ctx, xt, wt, bt, "fc"), new Tensor([batch, outputs], upstream.slice(), false))));
  return { calls: spy.calls, dx: xt.grad!, dw: wt.grad!, db: bt.grad! };
}

describe("a rotated weight-gradient GEMM under NVFP4", () => {
  const { calls } = run(new RecipePrecision(nvfp4, backend.kernels, 5));
  const [forward, inputGradient, weightGradient] = calls;
  const along = (m: Float32Array, lanes: number) => Array.from(fakeQuantize(nvfp4.roles.activations, m, { channels: lanes }).values);

  it("dW = dYᵀ·X: both operands are rotated along the batch (K), then quantized in 1×16 blocks along it", () => {
    const gLanes = transpose(upstream, batch, outputs); // op(A) = dYᵀ: outputs lanes × batch
    const xLanes = transpose(x, batch, inputs); // op(B) = X: inputs lanes × batch
    const opA = Array.from({ length: outputs * batch }, (_, i) => weightGradient.a[(i % batch) * outputs + Math.floor(i / batch)]);
    const opB = Array.from({ length: inputs * batch }, (_, i) => weightGradient.b[(i % batch) * inputs + Math.floor(i / batch)]);
    expect(opA).toEqual(along(rotate(gLanes, outputs, batch, ROTATION), outputs));
    expect(opB).toEqual(along(rotate(xLanes, inputs, batch, ROTATION), inputs));
    expect(opB).not.toEqual(along(xLanes, inputs));
  });

  it("the forward and input-gradient GEMMs are not rotated", () => {
    expect(Array.from(forward.a)).toEqual(along(x, batch));
    expect(Array.from(inputGradient.a)).toEqual(along(upstream, batch));
  });

  it("16×16 weight tiles: W and Wᵀ share one quantization (the forward and input-gradient operands are equal)", () => {
    expect(Array.from(inputGradient.b)).toEqual(Array.from(forward.b));
    expect(Array.from(forward.b)).not.toEqual(Array.from(w));
  });
});

describe("rotations keep the product", () => {
  const plain = run(identityPrecision);
  const rotated = run(new RecipePrecision(fp32Rotated, backend.kernels, 5));

  it("a full-precision recipe with rotated weight- and input-gradient GEMMs gives the same gradients within the rotation's rounding", () => {
    for (const [name, got, want] of [["dW", rotated.dw, plain.dw], ["dX", rotated.dx, plain.dx]] as const) {
      const scale = Math.max(...Array.from(want, Math.abs));
      const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
      expect(worst, name).toBeLessThan(scale * 2 ** -16);
      expect(Array.from(got), `${name} did go through a rotation`).not.toEqual(Array.from(want));
    }
  });

  it("the bias gradient sums the unrotated error, bit for bit", () => {
    expect(Array.from(rotated.db)).toEqual(Array.from(plain.db));
  });
});

describe("the rotation as the first step of the format's plan, on every kernel source", () => {
  let sources: { name: string; source: KernelSource }[] = [];
  beforeAll(async () => {
    sources = [{ name: "wasm", source: await wasmKernelSource() }, { name: "wasm, 2 threads", source: await wasmKernelSource(2) }, { name: "js", source: jsKernelSource() }];
  });
  afterAll(() => Promise.all(sources.map(({ source }) => source.close())));
  // 40 × 2000: enough elements for the threaded runner to split the steps by lanes.
  const shapes = [[40, 2000], [3, 37], [1, 16]] as const;

  it("activations: the semantics' fakeQuantize of the rotated lanes, bit for bit", () => {
    for (const { name, source } of sources)
      for (const [lanes, k] of shapes) {
        const m = random(lanes * k, lanes + k);
        const got = m.slice();
        new RecipePrecision(nvfp4, source, 5).quantize("activation", got, "fc", "weightGradient", rowChannels(lanes, k));
        expect(Array.from(got), `${name} ${lanes}×${k}`).toEqual(alongLanes(rotate(m, lanes, k, ROTATION), lanes));
      }
  });

  it("the shipped nvfp4 recipe's stochastic errors: the same bits on wasm (1 and 2 threads) as on JS", () => {
    const shipped = Effect.runSync(createRecipeRegistry(formats).get("nvfp4"));
    for (const [lanes, k] of shapes) {
      const m = random(lanes * k, 7 * lanes + k);
      const results = sources.map(({ source }) => {
        const got = m.slice();
        new RecipePrecision(shipped, source, 5).quantize("error", got, "fc", "weightGradient", rowChannels(lanes, k));
        return Array.from(got);
      });
      for (let i = 0; i < sources.length - 1; i++) expect(results[i], `${sources[i].name} ${lanes}×${k}`).toEqual(results[sources.length - 1]);
      expect(results[0]).not.toEqual(Array.from(m));
    }
  });
});

/** The semantics' fakeQuantize of lanes × K in NVFP4's 1×16 blocks along K. */
function alongLanes(m: Float32Array, lanes: number): number[] {
  return Array.from(fakeQuantize(nvfp4.roles.activations, m, { channels: lanes }).values);
}
