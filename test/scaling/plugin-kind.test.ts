/**
 * A scaling kind is one folder: the toy mean-absolute-value kind in
 * test/fixtures/scaling-kinds/mean-abs joins at run time (registerScalingKind in-process,
 * NUMFORGE_SCALING_KINDS for the CLI) and then works end to end like a built-in — schema, resolve,
 * semantics, JS and wasm kernels through the plans, `check`, `encode` and `decode`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import { buffersFromMeta, metaFromBuffers } from "../../src/codegen/meta.ts";
import { loadFormat } from "../../src/dsl/registry.ts";
import { dequantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { runPlan, type PlanKernel } from "../../src/package-runtime/run-plan.js";
import { registerScalingKind, scalingKindNames } from "../../src/scaling/registry.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { numforge } from "../cli/harness.ts";
import { planTensor } from "../support/inputs.ts";
import { scalingKind } from "../fixtures/scaling-kinds/mean-abs/index.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

const FOLDER = fileURLToPath(new URL("../fixtures/scaling-kinds/mean-abs/", import.meta.url));
const SPEC = `${FOLDER}e4m3-mean-abs.json`;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const words = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? -1 : ((F32[0] = v), U32[0])));

describe("a scaling kind from its own folder", () => {
  it("is refused until registered, with the registered kinds named", () => {
    expect(() => loadFormat(SPEC)).toThrow('must be one of "none", "amax", "block", "shift-squeeze", "shift-groups" (got "mean-abs")');
  });

  it("registers once; a second kind of that name is refused", () => {
    registerScalingKind(scalingKind);
    registerScalingKind(scalingKind); // the same object again: nothing to do
    expect(scalingKindNames()).toContain("mean-abs");
    expect(() => registerScalingKind({ ...scalingKind })).toThrow(/already registered/);
  });

  it("validates and resolves its spec fields", () => {
    const format = loadFormat(SPEC);
    expect(format.scaling).toEqual({ kind: "mean-abs", target: 16 });
  });

  let assembler: Awaited<ReturnType<typeof createWasmAssembler>>;
  beforeAll(async () => {
    assembler = await createWasmAssembler();
  });

  it("JS and wasm kernels equal its semantics bit for bit (codes, meta, decode, fake-quantize)", () => {
    registerScalingKind(scalingKind);
    const format = loadFormat(SPEC);
    const { kernels, plans } = lowerFormat(format);
    const targets = { js: loadJs({ kernels }) as unknown as Kernels, wasm: instantiateWasm(compileWasmWith(assembler, { kernels })).kernels as unknown as Kernels };
    for (const n of [0, 1, 7, 1000])
      for (const seed of [1, 2]) {
        const x = planTensor(n, 13 * n + seed);
        const q = quantize(format, x);
        expect(q.meta.kind as string).toBe("mean-abs");
        const values = dequantize(format, q.codes, q.meta);
        for (const [name, k] of Object.entries(targets)) {
          const label = `${name} n=${n} seed=${seed}`;
          const enc = runPlan(plans.encode, k, { x }, { n });
          expect(Array.from(enc.outputs.codes), `${label} codes`).toEqual(Array.from(q.codes));
          expect(metaFromBuffers(format, enc.meta, { n }), `${label} meta`).toEqual(q.meta);
          const dec = runPlan(plans.decode, k, { codes: q.codes, ...buffersFromMeta(format, q.meta) }, { n });
          expect(words(dec.outputs.values), `${label} decode`).toEqual(words(values));
          expect(words(runPlan(plans.fakeQuantize, k, { x }, { n }).outputs.values), `${label} fakeQuantize`).toEqual(words(values));
        }
      }
  });

  it("the CLI takes it through NUMFORGE_SCALING_KINDS: check, encode and decode", async () => {
    const env = { NUMFORGE_SCALING_KINDS: `${FOLDER}index.ts` };
    const check = await numforge(["check", SPEC], "", env);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/scaling\s+per tensor, mean \|x\| scaled to 16/);
    const encoded = await numforge(["encode", SPEC, "--json"], "[1, -2, 30, 0.001]", env);
    expect(encoded.code).toBe(0);
    const printed = JSON.parse(encoded.stdout) as { codes: number[]; meta: { kind: string; scale: number } };
    registerScalingKind(scalingKind);
    const expected = quantize(loadFormat(SPEC), Float32Array.of(1, -2, 30, 0.001));
    expect(printed.codes).toEqual(Array.from(expected.codes));
    expect(printed.meta).toEqual(expected.meta);
    const decoded = await numforge(["decode", SPEC, "--json"], encoded.stdout, env);
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toEqual(Array.from(dequantize(loadFormat(SPEC), expected.codes, expected.meta)));
  });

  it("a module that exports no kind is one clear line, exit 2", async () => {
    const bad = await numforge(["check", SPEC], "", { NUMFORGE_SCALING_KINDS: `${FOLDER}e4m3-mean-abs.json` });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/NUMFORGE_SCALING_KINDS: .*e4m3-mean-abs\.json exports no scalingKind/);
  });
});
