/**
 * encode / decode / fakeQuantize throughput of e4m3, posit8, int8 and mxfp8 through the
 * formats' plans, numforge js and wasm, next to Float32Array.prototype.set of the same length and
 * to onnxruntime-web's Cast (f32 → FLOAT16 where FLOAT8E4M3FN cannot leave its graph, and the
 * f32 → e4m3 → f32 round trip inside one graph), on the same 2^20 inputs.
 *
 * "js" and "wasm" run the package API's runPlan (wasm: every buffer copied into wasm memory and
 * back, outputs allocated per call, as a package user calls it); "wasm resident" runs the same
 * plan steps on buffers kept in wasm memory (the raw API: no copies, no allocation).
 */
import { lowerFormat } from "../src/codegen/lower/plans.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../src/package-runtime/run-plan.js";
import { residentPlanRunner } from "../src/package-runtime/wasm-runtime.js";
import { loadJs } from "../src/targets/js/load.ts";
import type { WasmAssembler } from "../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../src/targets/wasm/load.ts";
import { format, uniform } from "./formats.ts";
import { measure } from "./measure.ts";
import { residentPlan } from "./resident-plan.ts";
import * as ortWeb from "./peers/onnxruntime-web.ts";
import type { PeerFigure } from "./peers/common.ts";
import { fixed, times, type Table } from "./table.ts";

const LENGTH = 1 << 20;
const FORMATS = ["e4m3", "posit8", "int8", "mxfp8"];
const OPS = ["encode", "decode", "fakeQuantize"] as const;
type Op = (typeof OPS)[number];


async function peer(what: string, f: () => Promise<PeerFigure>): Promise<PeerFigure | string> {
  try {
    return await f();
  } catch (e) {
    return `${what}: not measured (${e instanceof Error ? e.message : String(e)})`;
  }
}

export async function elementwiseWasmSection(assembler: WasmAssembler): Promise<Table> {
  const x = uniform(LENGTH, 7);
  for (let i = 0; i < LENGTH; i++) x[i] *= 300; // spans the 8-bit formats' ranges and past them
  const copy = new Float32Array(LENGTH);
  const rows: string[][] = [];
  const notes: string[] = [];
  const opts = { runs: 9 };
  // The peers' figures (each measured on its own, same x).
  const castF16 = await peer("ORT Cast", () => ortWeb.castFloat8E4M3OrFloat16(x, opts));
  const roundTrip = await peer("ORT Cast round trip", () => ortWeb.castFloat8E4M3RoundTripElementsPerSec(x, opts));
  const quantize = await peer("ORT QuantizeLinear", () => ortWeb.quantizeLinearElementsPerSec(x, 300 / 127, 0, opts));
  for (const f of [castF16, roundTrip, quantize]) notes.push(typeof f === "string" ? f : `${f.label}: ${fixed(f.value / 1e6, 1)} M/s (Identity f32→f32 in the same round: ${fixed((f.variants?.["Identity f32→f32"] ?? Number.NaN) / 1e6, 1)} M/s); ${f.notes?.join("; ") ?? ""}`);
  const rate = (f: PeerFigure | string) => (typeof f === "string" ? Number.NaN : f.value / 1e6);

  for (const name of FORMATS) {
    const fmt = format(name);
    const { kernels, plans } = lowerFormat(fmt);
    const js = loadJs({ kernels }) as unknown as Readonly<Record<string, PlanKernel>>;
    const compiled = compileWasmWith(assembler, { kernels });
    const set = instantiateWasm(compiled);
    // What a shipped package's runPlan is (src/package/shipped/wasm-backend.js): inputs copied in once per call, outputs out.
    const packageRun = residentPlanRunner(compiled.kernels, set.raw, set.heap);
    const wasm = set.kernels as unknown as Readonly<Record<string, PlanKernel>>;
    const encoded = runPlan(plans.encode, js, { x });
    const encodedWasm = runPlan(plans.encode, wasm, { x });
    const decodeInputs = { ...encoded.outputs, ...encoded.meta };
    // Guard: the wasm plan computes what the JS plan computes.
    const same = (p: BufferArray, q: BufferArray) => Buffer.compare(Buffer.from(p.buffer, p.byteOffset, p.byteLength), Buffer.from(q.buffer, q.byteOffset, q.byteLength)) === 0;
    const encodedPackage = packageRun(plans.encode, { x });
    for (const [k, v] of Object.entries(encoded.outputs)) {
      if (!same(v, encodedWasm.outputs[k])) throw new Error(`${name} encode: wasm differs from js`);
      if (!same(v, encodedPackage.outputs[k])) throw new Error(`${name} encode: the package runner differs from js`);
    }
    const bindings: Record<Op, Record<string, BufferArray>> = { encode: { x }, decode: decodeInputs, fakeQuantize: { x } };
    const variants = [{ name: "set", run: () => copy.set(x) }];
    for (const op of OPS) {
      variants.push(
        { name: `${op} js`, run: () => void runPlan(plans[op], js, bindings[op]) },
        { name: `${op} wasm`, run: () => void runPlan(plans[op], wasm, bindings[op]) },
        { name: `${op} package`, run: () => void packageRun(plans[op], bindings[op]) },
        { name: `${op} resident`, run: residentPlan(plans[op], set, bindings[op], LENGTH).run },
      );
    }
    const t = measure(variants, opts);
    const r = (key: string) => LENGTH / (t.get(key) ?? Number.NaN) / 1e6;
    for (const op of OPS) {
      const reference = name === "e4m3" && op === "encode" ? rate(castF16) : name === "e4m3" && op === "fakeQuantize" ? rate(roundTrip) : name === "int8" && op === "encode" ? rate(quantize) : Number.NaN;
      const referenceE4m3 = name === "e4m3" && op !== "decode" ? rate(roundTrip) : Number.NaN;
      rows.push([
        `${name} ${op}`,
        fixed(r(`${op} js`), 1),
        fixed(r(`${op} wasm`), 1),
        fixed(r(`${op} package`), 1),
        fixed(r(`${op} resident`), 1),
        fixed(r("set"), 1),
        times(r(`${op} resident`) / r(`${op} js`)),
        times(r(`${op} wasm`) / r("set")),
        fixed(reference, 1),
        times(r(`${op} wasm`) / reference),
        times(r(`${op} package`) / reference),
        times(r(`${op} resident`) / referenceE4m3),
      ]);
    }
  }
  return {
    title: `Element kernels through the plans, ${LENGTH} elements (M elements/s, 1 thread, median of ${opts.runs} after warm-up)`,
    header: ["format op", "js", "wasm", "package", "wasm resident", "f32 set", "resident/js", "wasm/set", "ORT ref", "wasm/ORT ref", "package/ORT ref", "resident/ORT e4m3 trip"],
    rows,
    notes: [
      "js, wasm: runPlan with the per-kernel copying wrappers (wasm copies every array in and out around each step, outputs allocated per call); package: the shipped package's runPlan (residentPlanRunner: x copied in once, the steps on heap offsets, outputs copied out into fresh arrays); wasm resident: the plan's kernels on buffers kept in wasm memory",
      "ORT ref: e4m3 encode → Cast f32→FLOAT16 (what this build can return), e4m3 fakeQuantize → Cast f32→e4m3→f32 in one graph, int8 encode → QuantizeLinear; ORT copies in and out of its heap every run",
      "resident/ORT e4m3 trip: against the only e4m3 cast ORT runs here, the round trip (2 Casts per element: a per-Cast rate is at most twice it)",
      ...notes,
    ],
  };
}
