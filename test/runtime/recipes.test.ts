import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry, loadFormat } from "../../src/dsl/registry.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { command as compareCommand } from "../../src/cli/commands/compare.ts";
import { createRecipeRegistry, recipeNames } from "../../src/recipes/load.ts";
import { RecipePrecision, sitePattern } from "../../src/recipes/precision.ts";
import type { ResolvedRecipe } from "../../src/recipes/types.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor, type FloatArray } from "../../src/runtime/tensor.ts";

const formats = createRegistry();
const recipes = createRecipeRegistry(formats);
const backend = createJsBackend();
const recipe = (name: string): ResolvedRecipe => Effect.runSync(recipes.get(name));

/** A backend that records the operands of every GEMM before running it. */
function spying(inner: Backend): Backend & { calls: GemmParams[] } {
  const calls: GemmParams[] = [];
  return { name: "spy", calls, gemm: (p) => { calls.push({ ...p, a: p.a.slice(), b: p.b.slice() }); inner.gemm(p); } };
}

const representable = (format: ResolvedFormat, v: number) => Object.is(decode(format, encode(format, v)), v) || (v === 0 && decode(format, encode(format, v)) === 0);

function tinyResNet() {
  return createResNet({ stemChannels: 4, stages: [{ channels: 8, blocks: 1, stride: 2 }], seed: 3 });
}

function digitsBatch(n: number, seed: number): { x: Tensor; labels: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return { x: new Tensor([n, 1, 28, 28], x), labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

/** One forward + backward pass of a tiny ResNet under a recipe, recording every GEMM. */
function step(r: ResolvedRecipe) {
  const spy = spying(backend);
  const model = tinyResNet();
  const precision = new RecipePrecision(r, backend.kernels, 7);
  const ctx = trainContext(spy, precision);
  const { x, labels } = digitsBatch(4, 1);
  ctx.tape.backward(softmaxCrossEntropy(ctx, model.forward(ctx, x), labels), Float32Array.of(r.lossScaling.kind === "static" ? r.lossScaling.scale : 1));
  return { calls: spy.calls, model, precision };
}

describe("shipped recipes", () => {
  it("every recipe in recipes/ validates and resolves", () => {
    const names = recipeNames();
    expect(names).toEqual(expect.arrayContaining(["fp32", "fp16", "bf16", "e5m2", "fp8-hybrid", "s2fp8", "posit8", "int8", "mxfp8", "shiftquant4", "shiftquant6", "shiftquant8"]));
    for (const name of names) expect(recipe(name).name).toBe(name);
  });

  it("compare's help names every shipped recipe (a new recipe file is listed there too)", () => {
    const help = compareCommand.description;
    expect(recipeNames().filter((name) => !new RegExp(`(^|[ (;,])${name}([ ,;)]|$)`).test(help))).toEqual([]);
  });

  it("a bare format name means that format for every role with fp32 master weights", () => {
    const r = recipe("e4m3");
    expect(r.source).toBe("format e4m3");
    for (const f of Object.values(r.roles)) expect(f.name).toBe("e4m3");
    expect(r.master.name).toBe("fp32");
    expect(r.standalone).toBe(false);
  });

  it("normalization: standard unless a recipe says l1; the default keeps a recipe's fingerprint", () => {
    for (const name of ["fp32", "int8", "fp8-hybrid", "e4m3"]) expect(recipe(name).normalization).toBe("standard");
    const dir = mkdtempSync(join(tmpdir(), "numforge-recipe-"));
    const write = (normalization: string | undefined) => {
      const file = join(dir, `norm-${normalization ?? "absent"}.json`);
      writeFileSync(file, JSON.stringify({
        name: "norm", summary: "normalization test", master: "fp32", ...(normalization === undefined ? {} : { normalization }),
        roles: { weights: "e5m2", activations: "e5m2", errors: "e5m2", weightGradients: "fp32", optimizerState: "fp32" },
      }));
      return Effect.runSync(recipes.get(file));
    };
    const absent = write(undefined);
    expect(absent.normalization).toBe("standard");
    expect(write("standard").fingerprint).toBe(absent.fingerprint);
    const l1 = write("l1");
    expect(l1.normalization).toBe("l1");
    expect(l1.fingerprint).not.toBe(absent.fingerprint);
  });

  it("shiftquant4/6/8: ShiftQuant operands in every GEMM, stochastic rounding for the errors, L1 normalization, fp32 elsewhere", () => {
    for (const bits of [4, 6, 8]) {
      const r = recipe(`shiftquant${bits}`);
      expect(r.normalization).toBe("l1");
      for (const role of ["weights", "activations"] as const) {
        expect(r.roles[role].name).toBe(`shiftquant${bits}`);
        expect(r.roles[role].rounding.mode).toBe("nearest-even");
      }
      const errors = r.roles.errors;
      expect(errors.scaling).toEqual({ kind: "shift-groups", groups: 4 });
      expect(errors.element).toMatchObject({ kind: "int", bits, signed: true });
      expect(errors.rounding).toEqual({ mode: "stochastic", bits: 16 });
      expect(errors.name).toBe(`shiftquant${bits}-sr`);
      for (const f of [r.roles.weightGradients, r.roles.optimizerState, r.master]) expect(f.name).toBe("fp32");
      expect(r.standalone).toBe(false);
    }
  });

  it("per-channel scalings are accepted (GEMM operands are quantized per channel, see test/runtime/shiftquant.test.ts)", () => {
    const dir = mkdtempSync(join(tmpdir(), "numforge-recipe-"));
    const file = join(dir, "channel.json");
    const perChannel = { format: "int8", scaling: { kind: "amax", granularity: "channel", history: "current", scale: "fp32" } };
    writeFileSync(file, JSON.stringify({
      name: "channel", summary: "per-channel amax weights", master: "fp32",
      roles: { weights: perChannel, activations: "fp32", errors: "fp32", weightGradients: "fp32", optimizerState: "fp32" },
    }));
    const r = Effect.runSync(recipes.get(file));
    expect(r.roles.weights.scaling).toMatchObject({ kind: "amax", granularity: "channel" });
  });

  it("unknown names fail with suggestions", () => {
    const error = Effect.runSync(Effect.flip(recipes.get("fp8-hybird")));
    expect(error.toString()).toContain('unknown recipe or format "fp8-hybird"; did you mean fp8-hybrid?');
  });
});

describe("a recipe changes the numbers the GEMMs see", () => {
  it("e5m2: every operand of every forward and backward GEMM is exactly representable in e5m2", () => {
    const e5m2 = loadFormat("e5m2");
    const { calls, model } = step(recipe("e5m2"));
    // Head, block convs and shortcut: forward, input-gradient and weight-gradient GEMMs; the stem
    // has no input gradient to compute (the images do not require grad).
    expect(calls.length).toBe(2 + 3 * 4);
    let changed = 0;
    for (const call of calls) {
      const operands: Array<[FloatArray, number]> = [[call.a, call.m * call.k], [call.b, call.k * call.n]];
      for (const [operand, length] of operands) {
        for (let i = 0; i < length; i++) expect(representable(e5m2, operand[i]), `${operand[i]} is not an e5m2 value`).toBe(true);
      }
    }
    // The first GEMM is the stem's forward: A holds its weights, and they were really rounded.
    const stemWeight = model.parameters().find((p) => p.name === "stem.weight")!;
    for (let i = 0; i < stemWeight.size; i++) if (calls[0].a[i] !== stemWeight.data[i]) changed++;
    expect(changed).toBeGreaterThan(stemWeight.size / 2);
  });

  it("fp32: the GEMMs see the parameters unchanged and nothing is quantized", () => {
    const { calls, model, precision } = step(recipe("fp32"));
    const stemWeight = model.parameters().find((p) => p.name === "stem.weight")!;
    expect(Array.from(calls[0].a.subarray(0, stemWeight.size))).toEqual(Array.from(stemWeight.data));
    for (const role of ["weight", "activation", "error", "weightGradient", "optimizerState", "master"] as const) expect(precision.active(role, "stem")).toBe(false);
  });

  it("per-GEMM formats: e4m3 weights in the forward GEMM, e5m2 weights in the input-gradient GEMM", () => {
    const dir = mkdtempSync(join(tmpdir(), "numforge-recipe-"));
    const file = join(dir, "mixed.json");
    writeFileSync(file, JSON.stringify({
      name: "mixed", summary: "per-GEMM test", master: "fp32",
      roles: { weights: "e5m2", activations: "fp32", errors: "fp32", weightGradients: "fp32", optimizerState: "fp32" },
      gemms: { forward: { weights: "e4m3" } },
    }));
    const r = Effect.runSync(recipes.get(file));
    const spy = spying(backend);
    const precision = new RecipePrecision(r, backend.kernels, 0);
    expect(precision.differs("weight", "fc", "forward", "inputGradient")).toBe(true);
    const ctx = trainContext(spy, precision);
    const w = parameter("fc.weight", [3, 5], Float32Array.from({ length: 15 }, (_, i) => 0.37 * (i - 7) + 0.011));
    const x = new Tensor([2, 5], Float32Array.from({ length: 10 }, (_, i) => i / 7), true);
    ctx.tape.backward(softmaxCrossEntropy(ctx, linear(ctx, x, w, null, "fc"), Uint8Array.of(0, 2)));
    const [forward, inputGradient] = spy.calls;
    const e4m3 = loadFormat("e4m3");
    const e5m2 = loadFormat("e5m2");
    for (let i = 0; i < 15; i++) {
      expect(representable(e4m3, forward.b[i])).toBe(true);
      expect(representable(e5m2, inputGradient.b[i])).toBe(true);
    }
    expect(Array.from(forward.b.subarray(0, 15))).not.toEqual(Array.from(inputGradient.b.subarray(0, 15)));
  });
});


describe("per-GEMM formats in conv2d", () => {
  it("the weight-gradient GEMM gets its own error and activation formats", () => {
    const dir = mkdtempSync(join(tmpdir(), "numforge-recipe-"));
    const file = join(dir, "wgrad.json");
    writeFileSync(file, JSON.stringify({
      name: "wgrad", summary: "per-GEMM conv test", master: "fp32",
      roles: { weights: "fp32", activations: "e5m2", errors: "e5m2", weightGradients: "fp32", optimizerState: "fp32" },
      gemms: { weightGradient: { errors: "e4m3", activations: "e4m3" } },
    }));
    const spy = spying(backend);
    const ctx = trainContext(spy, new RecipePrecision(Effect.runSync(recipes.get(file)), backend.kernels, 0));
    const rng = new Rng(4);
    const x = new Tensor([2, 2, 5, 5], Float32Array.from({ length: 100 }, () => rng.normal() * 3), true);
    const w = parameter("conv.weight", [3, 2, 3, 3], Float32Array.from({ length: 54 }, () => rng.normal()));
    const y = conv2d(ctx, x, w, null, "conv", { padding: 1 });
    ctx.tape.backward(y, Float32Array.from({ length: y.size }, () => rng.normal() * 0.37));
    const [forward, weightGradient, inputGradient] = spy.calls;
    const e4m3 = loadFormat("e4m3");
    const e5m2 = loadFormat("e5m2");
    const all = (f: ResolvedFormat, a: FloatArray, n: number) => Array.from(a.subarray(0, n)).every((v) => representable(f, v));
    expect(all(e5m2, forward.b, forward.k * forward.n)).toBe(true); // activations, forward
    expect(all(e4m3, weightGradient.a, weightGradient.m * weightGradient.k)).toBe(true); // errors, weight gradient
    expect(all(e4m3, weightGradient.b, weightGradient.k * weightGradient.n)).toBe(true); // activations, weight gradient
    expect(all(e5m2, inputGradient.b, inputGradient.k * inputGradient.n)).toBe(true); // errors, input gradient
    expect(all(e5m2, weightGradient.a, weightGradient.m * weightGradient.k)).toBe(false); // e4m3 has values e5m2 lacks
  });
});

describe("standalone fp16", () => {
  const fp16 = loadFormat("fp16");

  it("keeps no fp32 copy: the parameters hold fp16 values, the optimizer holds only fp16 moments", () => {
    const r = recipe("fp16");
    expect(r.standalone).toBe(true);
    expect(r.optimizer.epsilon).toBeGreaterThan(2 ** -24); // survives fp16: above its smallest subnormal
    const precision = new RecipePrecision(r, backend.kernels, 0);
    const w = parameter("layer.weight", [4], Float32Array.of(1, -0.3, 1e-3, 2.5));
    for (const p of [w]) if (precision.active("master", p.name)) precision.quantize("master", p.data, p.name);
    const opt = adam([w], { eps: r.optimizer.epsilon! });
    for (let s = 0; s < 10; s++) {
      w.grad = Float32Array.of(1, 1, 1, 1);
      opt.step(1e-4, precision);
    }
    for (const v of w.data) expect(representable(fp16, v), `${v} is not an fp16 value`).toBe(true);
    // Each step moves w[0] = 1 by ~1e-4, less than half an fp16 ulp at 1 (2^-11): with no
    // higher-precision copy to accumulate into, the updates are lost and w[0] stays exactly 1.
    expect(w.data[0]).toBe(1);
    const state = opt.state();
    expect(Object.keys(state.buffers).sort()).toEqual(["layer.weight.m", "layer.weight.v"]);
    for (const buffer of Object.values(state.buffers)) for (const v of buffer) expect(representable(fp16, v)).toBe(true);
  });

  it("with an fp32 master the same tiny updates accumulate", () => {
    const precision = new RecipePrecision(recipe("bf16"), backend.kernels, 0);
    const w = parameter("layer.weight", [1], Float32Array.of(1));
    const opt = adam([w]);
    for (let s = 0; s < 10; s++) {
      w.grad = Float32Array.of(1);
      opt.step(1e-4, precision);
    }
    expect(w.data[0]).toBeCloseTo(1 - 1e-3, 6);
  });
});

describe("recipe precision state", () => {
  it("stochastic rounding is seeded by (run seed, step, site)", () => {
    const r = recipe("int8");
    const run = (seed: number, stepIndex: number, site: string) => {
      const p = new RecipePrecision(r, backend.kernels, seed);
      p.setStep(stepIndex);
      const t = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.01 + 1e-4 * i);
      p.quantize("error", t, site, "inputGradient");
      return Array.from(t);
    };
    expect(run(1, 5, "fc")).toEqual(run(1, 5, "fc"));
    expect(run(1, 5, "fc")).not.toEqual(run(1, 6, "fc"));
    expect(run(1, 5, "fc")).not.toEqual(run(2, 5, "fc"));
    expect(run(1, 5, "fc")).not.toEqual(run(1, 5, "conv"));
  });

  it("delayed amax history is kept per site and survives state() → restore()", () => {
    const r = recipe("fp8-hybrid");
    const p = new RecipePrecision(r, backend.kernels, 0);
    const big = Float32Array.from({ length: 32 }, (_, i) => (i - 16) * 10);
    p.quantize("activation", big, "stem", "forward");
    const small = () => Float32Array.from({ length: 32 }, (_, i) => (i - 16) * 0.01);
    const a = small();
    p.quantize("activation", a, "stem", "forward");
    const fresh = new RecipePrecision(r, backend.kernels, 0);
    const b = small();
    fresh.quantize("activation", b, "stem", "forward");
    expect(Array.from(a)).not.toEqual(Array.from(b)); // the history of "stem" still holds the large amax
    const restored = new RecipePrecision(r, backend.kernels, 0);
    restored.restore(p.state());
    const c = small();
    const d = small();
    p.quantize("activation", c, "stem", "forward");
    restored.quantize("activation", d, "stem", "forward");
    expect(Array.from(c)).toEqual(Array.from(d));
  });

  it("high-precision layers stay in float32 for every role, the others follow the recipe", () => {
    const dir = mkdtempSync(join(tmpdir(), "numforge-recipe-"));
    const file = join(dir, "keep.json");
    writeFileSync(file, JSON.stringify({
      name: "keep", summary: "first and last layer in fp32", master: "none", highPrecision: ["stem", "head"],
      roles: { weights: "fp16", activations: "fp16", errors: "fp16", weightGradients: "fp16", optimizerState: "fp16" },
    }));
    const p = new RecipePrecision(Effect.runSync(recipes.get(file)), backend.kernels, 0);
    for (const [role, site] of [["weight", "stem"], ["error", "head"], ["master", "stem.weight"], ["optimizerState", "head.bias.m"], ["weightGradient", "head.bias"]] as const)
      expect(p.active(role, site), `${role}@${site}`).toBe(false);
    for (const [role, site] of [["weight", "stage0.block0.conv1"], ["master", "stage0.block0.conv1.weight"], ["optimizerState", "stage1.block0.conv2.weight.v"]] as const)
      expect(p.active(role, site), `${role}@${site}`).toBe(true);
  });

  it("high-precision layers: a pattern covers its site and every site below it", () => {
    const match = sitePattern("stage*.shortcut");
    expect(match("stage1.shortcut")).toBe(true);
    expect(match("stage1.shortcut.weight.m")).toBe(true);
    expect(match("stage1.conv1")).toBe(false);
    expect(sitePattern("stem")("stem.bn.gamma")).toBe(true);
    expect(sitePattern("stem")("stemx")).toBe(false);
  });
});

describe("bad recipe files fail with the file and the JSON pointer", () => {
  const dir = mkdtempSync(join(tmpdir(), "numforge-bad-recipe-"));
  const base = {
    name: "bad", summary: "a broken recipe", master: "fp32",
    roles: { weights: "e5m2", activations: "e5m2", errors: "e5m2", weightGradients: "fp32", optimizerState: "fp32" },
  };
  const cases: Array<[string, unknown, string]> = [
    ["a role that is not a format", { ...base, roles: { ...base.roles, weights: 42 } }, "/roles/weights"],
    ["a missing role", { ...base, roles: { ...base.roles, errors: undefined } }, "/roles"],
    ["an unknown field", { ...base, precision: "low" }, "/precision"],
    ["a bad loss-scaling field", { ...base, lossScaling: { kind: "dynamic", growthFactor: 0.5 } }, "/lossScaling/growthFactor"],
    ["an unknown loss-scaling kind", { ...base, lossScaling: { kind: "adaptive" } }, "/lossScaling/kind"],
    ["an unknown format", { ...base, roles: { ...base.roles, errors: "e9m9" } }, "/roles/errors"],
    ["a bad inline scaling", { ...base, roles: { ...base.roles, weights: { format: "e4m3", scaling: { kind: "amax", granularity: "tensor", history: "sometimes", scale: "fp32" } } } }, "/roles/weights/scaling/history"],
    ["an unknown normalization", { ...base, normalization: "l2" }, "/normalization"],
    ["stochastic rounding on a posit", { ...base, roles: { ...base.roles, errors: "posit8" }, rounding: { errors: { mode: "stochastic", bits: 8 } } }, "/rounding/errors"],
    ["a bad GEMM operand", { ...base, gemms: { forward: { errors: "e4m3" } } }, "/gemms/forward/errors"],
  ];
  for (const [what, json, pointer] of cases) {
    it(what, () => {
      const file = join(dir, `${pointer.replace(/\W+/g, "_")}.json`);
      writeFileSync(file, JSON.stringify(json, null, 2));
      const error = Effect.runSync(Effect.flip(recipes.get(file)));
      expect(error._tag).toBe("SpecError");
      if (error._tag !== "SpecError") return;
      expect(error.file).toBe(file);
      expect(error.pointer).toBe(pointer);
    });
  }

  it("a JSON syntax error names the line and column", () => {
    const file = join(dir, "syntax.json");
    writeFileSync(file, '{\n  "name": "x",\n  "roles": { oops }\n}\n');
    const error = Effect.runSync(Effect.flip(recipes.get(file)));
    expect(error.toString()).toContain("line 3");
  });
});

