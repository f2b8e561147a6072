/**
 * Resident element kernels against memory speed (issue 17's goals): every ≤ 16-bit built-in
 * element format's encode, and fake-quantize of the scaled formats (amax, MX, NVFP4, S2FP8,
 * ShiftQuant), on buffers kept in wasm memory (the raw API, no copies), next to
 * Float32Array.prototype.set of the same 2^20 floats timed round-robin with them. Goals: encode
 * ≥ 0.4× set, scaled fake-quantize ≥ 0.2× set. Each kernel's result is first checked equal to
 * the JS target's (runPlan) on the same inputs.
 */
import { lowerFormat } from "../src/codegen/lower/plans.ts";
import { fastEncodePlan } from "../src/codegen/lower/fast-encode/index.ts";
import type { ResolvedFormat } from "../src/dsl/resolved.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../src/package-runtime/run-plan.js";
import { loadJs } from "../src/targets/js/load.ts";
import type { WasmAssembler } from "../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../src/targets/wasm/load.ts";
import { builtinNames, format, uniform, withScaling } from "./formats.ts";
import { measure } from "./measure.ts";
import { residentPlan } from "./resident-plan.ts";
import { rotationSigns, type HadamardRotation } from "../src/scaling/rotation/hadamard.ts";
import { lowerRotation, ROTATION_SIGNS, rotatedPlan } from "../src/scaling/rotation/lower.ts";
import { fixed, times, type Table } from "./table.ts";

const LENGTH = 1 << 20;
const ENCODE_GOAL = 0.4;
const SCALED_GOAL = 0.2;

const AMAX = { kind: "amax", granularity: "tensor", history: "current", scale: "fp32" };
/** The scaled formats of the goal: built-ins, and int8 / e4m3 with a current per-tensor amax (the int8 recipe's). */
const SCALED: readonly (() => ResolvedFormat)[] = [
  () => format("mxfp8"),
  () => format("mxfp4"),
  () => format("nvfp4"),
  () => format("s2fp8"),
  () => format("shiftquant8"),
  () => format("shiftquant4"),
  () => withScaling("int8", AMAX, "int8-amax"),
  () => withScaling("e4m3", AMAX, "e4m3-amax"),
];


function bytesEqual(p: BufferArray, q: BufferArray): boolean {
  return p.length === q.length && Buffer.compare(Buffer.from(p.buffer, p.byteOffset, p.byteLength), Buffer.from(q.buffer, q.byteOffset, q.byteLength)) === 0;
}

/** NVFP4's weight-gradient operands: a random Hadamard 16 first, in the format's module (as the nvfp4 recipe runs it). */
const ROTATION: HadamardRotation = { kind: "hadamard", size: 16, signSeed: 16 };

/**
 * Resident M elements/s of `op` (after a rotation where given) and of Float32Array.set in the
 * same round-robin, after checking the result against JS.
 */
function rates(assembler: WasmAssembler, fmt: ResolvedFormat, op: "encode" | "fakeQuantize", x: Float32Array, rotation?: HadamardRotation): { kernel: number; set: number } {
  const lowered = lowerFormat(fmt);
  const kernels = rotation === undefined ? lowered.kernels : [...lowered.kernels, lowerRotation(rotation.size)];
  const plan = rotation === undefined ? lowered.plans[op] : rotatedPlan(lowered.plans[op], rotation.size);
  const inputs: Record<string, BufferArray> = rotation === undefined ? { x } : { x, [ROTATION_SIGNS]: rotationSigns(rotation) };
  const set = instantiateWasm(compileWasmWith(assembler, { kernels }));
  const r = residentPlan(plan, set, inputs, LENGTH);
  r.run();
  const js = runPlan(plan, loadJs({ kernels }) as unknown as Readonly<Record<string, PlanKernel>>, inputs).outputs;
  for (const [name, got] of Object.entries(r.outputs())) if (!bytesEqual(got, js[name])) throw new Error(`${fmt.name} ${op}: resident wasm ${name} differs from js`);
  const copy = new Float32Array(LENGTH);
  const t = measure([{ name: "set", run: () => copy.set(x) }, { name: "kernel", run: r.run }], { runs: 9 });
  const rate = (key: string) => LENGTH / (t.get(key) ?? Number.NaN) / 1e6;
  return { kernel: rate("kernel"), set: rate("set") };
}

export async function elementwiseResidentSection(assembler: WasmAssembler): Promise<Table> {
  const x = uniform(LENGTH, 11);
  for (let i = 0; i < LENGTH; i++) x[i] *= 2 ** ((i % 13) - 4); // several binades, past the 8-bit formats' ranges
  const rows: string[][] = [];
  const row = (fmt: ResolvedFormat, op: string, path: string, r: { kernel: number; set: number }, goal: number) =>
    rows.push([`${fmt.name} ${op}`, path, fixed(r.kernel, 1), fixed(r.set, 1), times(r.kernel / r.set), `${goal}×`, r.kernel / r.set >= goal ? "met" : "not met"]);
  const elements = builtinNames()
    .map(format)
    .filter((f) => f.scaling.kind === "none" && f.bits <= 16);
  for (const fmt of elements) {
    const path = fastEncodePlan(fmt, fmt.rounding, fmt.overflow) !== null ? "fast" : fmt.element.kind;
    row(fmt, "encode", path, rates(assembler, fmt, "encode", x), ENCODE_GOAL);
  }
  for (const make of SCALED) {
    const fmt = make();
    const path = fastEncodePlan(fmt, fmt.rounding, fmt.overflow) !== null ? "fast" : fmt.element.kind;
    row(fmt, "fakeQuantize", path, rates(assembler, fmt, "fakeQuantize", x), SCALED_GOAL);
  }
  const nvfp4 = format("nvfp4");
  row(nvfp4, "fakeQuantize, rotated (H16)", "fast", rates(assembler, nvfp4, "fakeQuantize", x, ROTATION), SCALED_GOAL);
  return {
    title: `Resident element kernels vs Float32Array.set, ${LENGTH} elements (M elements/s, 1 thread, median of 9 after warm-up, round-robin with set)`,
    header: ["format op", "element path", "resident", "f32 set", "/set", "goal", ""],
    rows,
    notes: [
      "resident: the plan's wasm kernels on buffers kept in wasm memory (raw API: no copies, no allocation); each result checked equal to the JS target's first",
      "element path: fast = the lane-wise encode of src/codegen/lower/fast-encode; posit / table = their own lowering (lane-wise for posits of ≤ 16 bits and codebooks of ≤ 16 codes); float / int = the general lowering",
      "int8-amax, e4m3-amax: the built-in element with a current per-tensor amax scale (fp32), as the int8 recipe uses it",
      "rotated (H16): the nvfp4 recipe's weight-gradient operands — a random Hadamard rotation of 16 (rotate_hadamard_16, the wasm vectorizer's strided form) as the plan's first step, then the format's steps",
    ],
  };
}
