/**
 * Declared GEMM accumulators in training: a recipe declares one per GEMM of a layer (forward,
 * input gradient, weight gradient), the ops name the GEMM each call is (GemmParams.pass), and
 * withAccumulators attaches the recipe's accumulator to the calls of that GEMM. A backend runs a
 * float32 GEMM that carries an accumulator with the declared kernel of its target (js or wasm:
 * lower/gemm/gemm.ts with GemmOptions.accumulator), which gives the bits dsl/semantics/accumulate.ts
 * defines; float64 GEMMs (gradient checks) ignore it.
 */
import { describeGemm, lowerGemm, MAX_DECLARED_ACCUMULATOR_K, type GemmDescription, type GemmOptions } from "../../codegen/lower/gemm/gemm.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE } from "../../codegen/schedule.ts";
import type { Accumulator } from "../../dsl/semantics/accumulate.ts";
import { gemmBatched, type Backend, type BatchedGemmParams, type GemmParams } from "../backend.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { GemmPass } from "../precision.ts";
import type { FloatArray } from "../tensor.ts";
import type { KernelSource } from "./kernel-source.ts";
import { scratchPanels } from "./js.ts";

/** The accumulator of each GEMM of a layer (absent: the backend's own float32 accumulation). */
export type GemmAccumulators = { readonly [P in GemmPass]?: Accumulator };

/** A recipe's declared accumulators, by GEMM. */
export function accumulatorsOf(recipe: Pick<ResolvedRecipe, "gemms">): GemmAccumulators {
  const { forward, inputGradient, weightGradient } = recipe.gemms;
  return { forward: forward.accumulator, inputGradient: inputGradient.accumulator, weightGradient: weightGradient.accumulator };
}

/** Whether any GEMM declares an accumulator. */
const declaresAccumulators = (accumulators: GemmAccumulators) => Object.values(accumulators).some((a) => a !== undefined);

/** `backend` with each GEMM that names its pass given that pass's declared accumulator (the backend itself when none is declared). */
export function withAccumulators<B extends Backend>(backend: B, accumulators: GemmAccumulators): B {
  if (!declaresAccumulators(accumulators)) return backend;
  const attach = <P extends GemmParams>(p: P): P => {
    const accumulator = p.pass === undefined ? undefined : accumulators[p.pass];
    return accumulator === undefined ? p : { ...p, accumulator };
  };
  const gemm = <T extends FloatArray>(p: GemmParams<T>) => backend.gemm(attach(p));
  const gemmBatch = <T extends FloatArray>(p: BatchedGemmParams<T>) => gemmBatched(backend, attach(p));
  return { ...backend, gemm, gemmBatch };
}

/** Throws a RangeError when a declared accumulator cannot sum this depth in its one k block. */
export function checkDeclaredDepth(k: number): void {
  if (k > MAX_DECLARED_ACCUMULATOR_K) throw new RangeError(`gemm: a declared accumulator sums at most 2^20 products per output (one k block in order), got k = ${k}`);
}

type Kernel = (...args: unknown[]) => void;

/**
 * Runs float32 GEMMs under declared accumulators with `kernels`' target: each accumulator's kernel
 * is compiled once (kernels.loadModule, by the accumulator's content), looked up once per
 * accumulator object (a recipe's are resolved once, and a training run makes thousands of calls),
 * and its scratch panels kept.
 */
export function declaredGemmRunner(kernels: KernelSource): (p: GemmParams<Float32Array>, accumulator: Accumulator) => void {
  const schedule = kernels.target === "wasm" ? WASM_GEMM_SCHEDULE : JS_GEMM_SCHEDULE;
  const scratchFor = scratchPanels();
  const prepared = new WeakMap<Accumulator, { desc: GemmDescription; kernel: Kernel }>();
  const prepare = (accumulator: Accumulator) => {
    let entry = prepared.get(accumulator);
    if (entry === undefined) {
      const options: GemmOptions = { a: "f32", b: "f32", schedule, accumulator, name: "gemm_declared" };
      const desc = describeGemm(options);
      const kernel = kernels.loadModule(`gemm-accumulator ${JSON.stringify(accumulator)}`, () => ({ kernels: lowerGemm(options) }))[desc.kernel] as unknown as Kernel;
      entry = { desc, kernel };
      prepared.set(accumulator, entry);
    }
    return entry;
  };
  return (p, accumulator) => {
    checkDeclaredDepth(p.k);
    const { desc, kernel } = prepare(accumulator);
    const values: Record<string, unknown> = { a: p.a, b: p.b, c: p.c, m: p.m, n: p.n, k: p.k, transA: p.transA ? 1 : 0, transB: p.transB ? 1 : 0, alpha: p.alpha, beta: p.beta };
    for (const s of desc.scratch) values[s.name] = scratchFor(s, p, desc.schedule.kc);
    kernel(...desc.params.map((param) => values[param.name]));
  };
}

/** The accumulator a GEMM call declares when it takes the declared path (float32 operands), else null. */
export function declaredAccumulator(p: GemmParams): Accumulator | null {
  return p.accumulator !== undefined && !(p.c instanceof Float64Array) ? p.accumulator : null;
}
