/**
 * `npm run bench -- --target wgsl`: the WGSL target on this machine's WebGPU adapter (Mesa
 * lavapipe where there is no GPU: a CPU rasterizer, so its figures only show that the path works),
 * each figure beside the wasm target's from the same round-robin:
 * - wgslGemmSection: GEMM C = A·B GFLOP/s, f32 × f32 and e4m3 × e4m3, at 128³, 256³ and 512³;
 * - wgslEncodeSection: e4m3 encode_elements, M elements/s.
 * A WGSL call is asynchronous and its work is not this process's CPU time (a real GPU's is not
 * on the CPU at all), so this file times everything, wasm included, in wall-clock time (medians
 * after warm-up, round-robin: bench/measure.ts). WGSL "per call": one call as a program makes it
 * (operands uploaded, the result read back); "batched": BATCH calls on the same arrays in one
 * submission (one upload, one read-back), per call — nearer the kernel's own time.
 */
import { lowerEncodeElements } from "../src/codegen/lower/elementwise.ts";
import type { WasmAssembler } from "../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../src/targets/wasm/load.ts";
import { compileWgsl, type CompiledWgslKernel } from "../src/targets/wgsl/compile.ts";
import { openWgslDevice, type WgslDevice } from "../src/targets/wgsl/device.ts";
import { compileWgslGemm } from "../src/targets/wgsl/gemm.ts";
import { GEMM_TILE_SIZE, WGSL_GEMM_TILE } from "../src/targets/wgsl/gemm-render.ts";
import { wgslGemmCall } from "../src/targets/wgsl/gemm-run.ts";
import { runWgslCalls, type WgslArg, type WgslCall } from "../src/targets/wgsl/runner.ts";
import { format, uniform } from "./formats.ts";
import { codesOf } from "./gemm-compare.ts";
import type { MeasureOptions } from "./measure.ts";
import { wasmGemm, type GemmShape } from "./numforge-gemm.ts";
import { checkMatmulF32, measureAsync, type AsyncVariant } from "./peers/common.ts";
import { fixed, times, type Table } from "./table.ts";

/** Calls per submission of the "batched" figures. */
const BATCH = 4;
const SIZES = [128, 256, 512];
const ENCODE_LENGTH = 1 << 20;
const WALL: MeasureOptions = { clock: "wall" };

/** Whether the adapter is Mesa's software Vulkan driver (lavapipe, llvmpipe inside). */
export const isSoftware = (device: WgslDevice) => /llvmpipe|lavapipe|swiftshader/i.test(device.adapter);

/** The line the WGSL bench starts with: the adapter, and what its figures mean. */
export function adapterLine(device: WgslDevice): string {
  const caveat = isSoftware(device)
    ? " — a CPU rasterizer (Mesa lavapipe): its figures only show that the WGSL path works, not what a GPU does"
    : "";
  return `WebGPU adapter: ${device.adapter}${caveat}`;
}

export const openBenchDevice = (): Promise<WgslDevice> => openWgslDevice();

/** The calls run by one "per call" run (1) or "batched" run (BATCH), as one submission. */
const submission = (device: WgslDevice, call: WgslCall, count: number) => () => runWgslCalls(device, Array.from({ length: count }, () => call));

const sync = (name: string, run: () => void): AsyncVariant => ({ name, run: async () => run() });

const runsFor = (flops: number): MeasureOptions => ({ ...WALL, ...(flops >= 2e8 ? { runs: 5, warmupRuns: 1 } : { runs: 9 }) });

export async function wgslGemmSection(assembler: WasmAssembler, device: WgslDevice): Promise<Table> {
  const e4m3 = format("e4m3");
  const rows: string[][] = [];
  for (const size of SIZES) {
    const shape: GemmShape = { m: size, n: size, k: size };
    const flops = 2 * size ** 3;
    const a = uniform(size * size, 1);
    const b = uniform(size * size, 2);
    const codes = { a: codesOf("e4m3", a.map((v) => v * 8)), b: codesOf("e4m3", b.map((v) => v * 8)) };
    const operands = [
      { label: "f32", a: a, b: b, values: { a, b }, format: "f32" as const },
      { label: "e4m3", a: codes.a.codes, b: codes.b.codes, values: { a: codes.a.values, b: codes.b.values }, format: e4m3 },
    ];
    for (const o of operands) {
      const gemm = compileWgslGemm({ a: o.format, b: o.format });
      const c = new Float32Array(size * size);
      const call = wgslGemmCall(gemm, [o.a, o.b, c, size, size, size, 0, 0, 1, 0] as WgslArg[]);
      const wasm = wasmGemm(assembler, o.format, o.format, o.a, o.b, shape, false);
      // Each contender's result is checked once against the float64 product of the decoded operands.
      await submission(device, call, 1)();
      checkMatmulF32(`WGSL GEMM ${o.label} ${size}³`, c, o.values.a, o.values.b, size, size, size);
      wasm.run();
      checkMatmulF32(`wasm GEMM ${o.label} ${size}³`, wasm.result(), o.values.a, o.values.b, size, size, size);
      const t = await measureAsync(
        [
          { name: "wgsl", run: submission(device, call, 1) },
          sync("wasm", wasm.run),
          { name: "wgsl batched", run: submission(device, call, BATCH) },
          sync("wasm copy", wasm.copying ?? wasm.run),
        ],
        runsFor(flops),
      );
      const g = (key: string, calls = 1) => (calls * flops) / (t.get(key) ?? Number.NaN) / 1e9;
      const batched = g("wgsl batched", BATCH);
      rows.push([`${size}³ ${o.label}`, fixed(g("wgsl")), fixed(batched), fixed(g("wasm")), fixed(g("wasm copy")), times(batched / g("wasm"))]);
    }
  }
  const { threads, register, depth } = WGSL_GEMM_TILE;
  return {
    title: `WGSL GEMM C = A·B, m = n = k (GFLOP/s, wall clock, median after warm-up; ${GEMM_TILE_SIZE}×${GEMM_TILE_SIZE} tiles, ${threads}×${threads} invocations × ${register}×${register}, k step ${depth})`,
    header: ["size operands", "wgsl", `wgsl ×${BATCH} batched`, "wasm", "wasm copy", "batched/wasm"],
    rows,
    notes: [
      `wgsl: one call (A, B uploaded, C read back); wgsl ×${BATCH} batched: ${BATCH} calls in one submission, per call; e4m3 operands are codes decoded on load (tables in workgroup memory)`,
      "wasm: the wasm target's kernel (plain SIMD, 1 thread) on operands resident in wasm memory; wasm copy: A, B copied in and C out per call",
      `adapter ${device.adapter}${isSoftware(device) ? ": lavapipe runs the shader on this machine's CPU cores, so these figures only show the path works" : ""}`,
    ],
  };
}

export async function wgslEncodeSection(assembler: WasmAssembler, device: WgslDevice): Promise<Table> {
  const n = ENCODE_LENGTH;
  const x = uniform(n, 7).map((v) => v * 300); // spans e4m3's range and past it
  const module = { kernels: [lowerEncodeElements(format("e4m3"))] };
  const kernel: CompiledWgslKernel = compileWgsl(module).kernels[0];
  const codes = new Uint8Array(n);
  const call: WgslCall = { kernel, args: [x, codes, n, 0] };
  const set = instantiateWasm(compileWasmWith(assembler, module));
  const wasmCodes = new Uint8Array(n);
  const xAt = set.heap.copyIn(x);
  const codesAt = set.heap.alloc(n);
  const raw = set.raw.encode_elements;
  // The WGSL codes are checked once against the wasm kernel's (both bit for bit the semantics, by their tests).
  await submission(device, call, 1)();
  set.kernels.encode_elements(x, wasmCodes, n, 0);
  if (Buffer.compare(Buffer.from(codes), Buffer.from(wasmCodes)) !== 0) throw new Error("WGSL e4m3 encode differs from the wasm kernel's");
  const t = await measureAsync(
    [
      { name: "wgsl", run: submission(device, call, 1) },
      sync("wasm", () => raw(xAt, codesAt, n, 0)),
      { name: "wgsl batched", run: submission(device, call, BATCH) },
      sync("wasm copy", () => set.kernels.encode_elements(x, wasmCodes, n, 0)),
    ],
    { ...WALL, runs: 9 },
  );
  const r = (key: string, calls = 1) => (calls * n) / (t.get(key) ?? Number.NaN) / 1e6;
  const batched = r("wgsl batched", BATCH);
  return {
    title: `e4m3 encode_elements, ${n} elements (M elements/s, wall clock, median of 9 after warm-up)`,
    header: ["kernel", "wgsl", `wgsl ×${BATCH} batched`, "wasm", "wasm copy", "batched/wasm"],
    rows: [["e4m3 encode", fixed(r("wgsl"), 1), fixed(batched, 1), fixed(r("wasm"), 1), fixed(r("wasm copy"), 1), times(batched / r("wasm"))]],
    notes: [
      `wgsl: one call (x uploaded, codes read back); wgsl ×${BATCH} batched: ${BATCH} calls in one submission, per call`,
      "wasm: the wasm target's kernel on buffers resident in wasm memory; wasm copy: x copied in and codes out per call",
      ...(isSoftware(device) ? ["lavapipe runs the shader on this machine's CPU cores: these figures only show the path works"] : []),
    ],
  };
}
