/**
 * ShiftQuant recipes in training: every GEMM operand is quantized with one power-of-two scale
 * per group of channels along the axis its GEMM does not sum (Precision.quantize layouts), so
 * each row of op(A) and each column of op(B) is integers × one power of two — what the integer
 * ShiftQuant GEMM (lower/gemm, cc variant) multiplies, applying the shifts after accumulation.
 */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry, loadFormat } from "../../src/dsl/registry.ts";
import { shiftGroups } from "../../src/scaling/shift-groups/semantics.ts";
import { fakeQuantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { sum } from "../../src/runtime/ops/elementwise.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor } from "../../src/runtime/tensor.ts";

const recipes = createRecipeRegistry(createRegistry());
const backend = createJsBackend();
const shiftquant4 = Effect.runSync(recipes.get("shiftquant4"));
const format = loadFormat("shiftquant4");
const MAX_INT = 7;

function spying(inner: Backend): Backend & { calls: GemmParams[] } {
  const calls: GemmParams[] = [];
  return { name: "spy", calls, gemm: (p) => { calls.push({ ...p, a: p.a.slice(), b: p.b.slice() }); inner.gemm(p); } };
}

/** op(A)(i, p) and op(B)(p, j) of a recorded call. */
const opA = (c: GemmParams) => (i: number, p: number) => c.a[c.transA ? p * c.m + i : i * c.k + p];
const opB = (c: GemmParams) => (p: number, j: number) => c.b[c.transB ? j * c.k + p : p * c.n + j];

/** The smallest e with amax ≤ maxInt·2^e. */
function laneExponent(amax: number): number {
  let e = Math.ceil(Math.log2(amax / MAX_INT));
  while (amax > MAX_INT * 2 ** e) e++;
  while (amax <= MAX_INT * 2 ** (e - 1)) e--;
  return e;
}

/**
 * The first lane that is not integers × 2^e with |integer| ≤ 7, e from the lane's own amax (a lane
 * of a coarser group has a larger e, whose multiples are multiples of 2^e too), or null.
 */
function notLaneScaled(value: (lane: number, depth: number) => number, lanes: number, depth: number): string | null {
  for (let l = 0; l < lanes; l++) {
    let amax = 0;
    for (let p = 0; p < depth; p++) amax = Math.max(amax, Math.abs(value(l, p)));
    if (amax === 0) continue;
    const e = laneExponent(amax);
    for (let p = 0; p < depth; p++) {
      const q = value(l, p) / 2 ** e;
      if (!Number.isInteger(q) || Math.abs(q) > MAX_INT) return `lane ${l}, step ${p}: ${value(l, p)} is not an integer × 2^${e} within ±${MAX_INT}`;
    }
  }
  return null;
}

/** Weights [12, 7] whose rows span 2^0 … 2^−5; row 5 is row 0 reversed (the same amax). */
function weights(): Float32Array {
  const rng = new Rng(11);
  const w = Float32Array.from({ length: 12 * 7 }, (_, i) => rng.normal() * 2 ** -(Math.floor(i / 7) % 6));
  for (let j = 0; j < 7; j++) w[5 * 7 + j] = w[6 - j];
  return w;
}

/** Activations [9, 7] whose columns differ in magnitude. */
function activations(): Float32Array {
  const rng = new Rng(5);
  return Float32Array.from({ length: 63 }, (_, i) => rng.normal() * 2 ** (i % 7));
}

/** rows×cols row-major → cols×rows. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** One forward + backward pass of linear(x, W) under shiftquant4, recording the GEMMs. */
function linearStep(w: Float32Array, seed = 3) {
  const spy = spying(backend);
  const ctx = trainContext(spy, new RecipePrecision(shiftquant4, backend.kernels, seed));
  const x = new Tensor([9, 7], activations(), true);
  const wt = parameter("fc.weight", [12, 7], w.slice());
  ctx.tape.backward(sum(ctx, linear(ctx, x, wt, null, "fc")));
  const [forward, inputGradient, weightGradient] = spy.calls;
  return { forward, inputGradient, weightGradient };
}

describe("ShiftQuant recipe: forward weights carry one power-of-two scale per group of output channels", () => {
  it("rows of W are integers × 2^e(group of the row), the semantics' groups, at most 4 consecutive exponents", () => {
    const w = weights();
    const { forward } = linearStep(w);
    expect(forward.transB).toBe(true);
    // Bit for bit the semantics with one channel per output row (not one scale for the tensor).
    expect(Array.from(forward.b.subarray(0, 84))).toEqual(Array.from(fakeQuantize(format, w, { channels: 12 }).values));
    expect(Array.from(forward.b.subarray(0, 84))).not.toEqual(Array.from(fakeQuantize(format, w).values));
    const { channelGroup, groupExponent } = shiftGroups(format, 4, w, { length: 84, channels: 12 });
    for (let r = 0; r < 12; r++) {
      const e = groupExponent[channelGroup[r]];
      for (let j = 0; j < 7; j++) {
        const q = forward.b[r * 7 + j] / 2 ** e;
        expect(Number.isInteger(q) && Math.abs(q) <= MAX_INT, `W[${r},${j}] = ${forward.b[r * 7 + j]} with e = ${e}`).toBe(true);
      }
    }
    expect(new Set(channelGroup).size).toBe(4);
    expect(Array.from(groupExponent)).toEqual([0, 1, 2, 3].map((g) => groupExponent[0] - g));
    // Rows of equal amax (row 5 is row 0 reversed) share a group; the groups follow the magnitudes.
    expect(channelGroup[5]).toBe(channelGroup[0]);
    expect(channelGroup[0]).toBe(0);
    expect(channelGroup[3]).toBe(3);
  });

  it("group assignment is stable: the same weights give the same groups and values, whatever the run seed and step", () => {
    const w = weights();
    const a = linearStep(w, 1).forward;
    const b = linearStep(w, 2).forward;
    expect(Array.from(b.b)).toEqual(Array.from(a.b));
    const q1 = quantize(format, w, { channels: 12 }).meta;
    const q2 = quantize(format, w.slice(), { channels: 12 }).meta;
    expect(q2).toEqual(q1);
  });

  it("the backward GEMMs group along their own unsummed axes: W by input columns, errors and activations by columns", () => {
    const w = weights();
    const { forward, inputGradient, weightGradient } = linearStep(w);
    // W and x by columns: the semantics on the transposed matrix (one channel per column), transposed back.
    const byColumns = (m: Float32Array, rows: number, cols: number) => transpose(fakeQuantize(format, transpose(m, rows, cols), { channels: cols }).values, cols, rows);
    expect(Array.from(inputGradient.b.subarray(0, 84))).toEqual(Array.from(byColumns(w, 12, 7)));
    expect(Array.from(weightGradient.b.subarray(0, 63))).toEqual(Array.from(byColumns(activations(), 9, 7)));
    // Input gradient: op(B) = W [out, in], lanes = the 7 input columns.
    expect(notLaneScaled((j, p) => opB(inputGradient)(p, j), 7, 12)).toBeNull();
    // The same weights grouped by rows would not do: W's columns mix rows of different scales.
    expect(notLaneScaled((j, p) => opB(forward)(p, j), 7, 12)).not.toBeNull();
    // Weight gradient: op(A) = errorᵀ (lanes = 12 outputs), op(B) = x (lanes = 7 inputs).
    expect(notLaneScaled(opA(weightGradient), 12, 9)).toBeNull();
    expect(notLaneScaled((j, p) => opB(weightGradient)(p, j), 7, 9)).toBeNull();
  });
});

describe("ShiftQuant recipe on the ResNet", () => {
  it("every operand of every GEMM of a training step is lane-scaled: rows of op(A), columns of op(B)", () => {
    const spy = spying(backend);
    const model = createResNet({ stemChannels: 4, stages: [{ channels: 8, blocks: 1, stride: 2 }], seed: 3, norm: shiftquant4.normalization === "l1" ? "l1" : "batch" });
    const ctx = trainContext(spy, new RecipePrecision(shiftquant4, backend.kernels, 7));
    const rng = new Rng(1);
    const x = new Tensor([4, 1, 28, 28], Float32Array.from({ length: 4 * 784 }, () => rng.normal()));
    ctx.tape.backward(softmaxCrossEntropy(ctx, model.forward(ctx, x), Uint8Array.of(0, 1, 2, 3)));
    // Head, block convs and shortcut: forward, input-gradient and weight-gradient GEMMs; the stem has no input gradient.
    expect(spy.calls.length).toBe(2 + 3 * 4);
    for (const [index, call] of spy.calls.entries()) {
      expect(notLaneScaled(opA(call), call.m, call.k), `GEMM ${index}: rows of op(A)`).toBeNull();
      expect(notLaneScaled((j, p) => opB(call)(p, j), call.n, call.k), `GEMM ${index}: columns of op(B)`).toBeNull();
    }
  });
});
