/** Runs a kernel plan on buffers resident in wasm memory: the memory-speed figures of the element benches. */
import { sizeOf, type OpPlan } from "../src/codegen/plan.ts";
import type { BufferArray } from "../src/package-runtime/run-plan.js";
import type { WasmKernelSet } from "../src/targets/wasm/load.ts";

const ARRAYS = { f32: Float32Array, i32: Int32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array } as const;

/** The plan's steps on buffers kept in wasm memory (inputs copied in once, nothing per call), and a reader of its outputs there. */
export function residentPlan(plan: OpPlan, set: WasmKernelSet, inputs: Readonly<Record<string, BufferArray>>, n: number) {
  const at = new Map<string, number>();
  for (const d of plan.buffers) {
    const given = inputs[d.name];
    at.set(d.name, given !== undefined ? set.heap.copyIn(given) : set.heap.alloc(sizeOf(d.length, n, 1) * 4));
  }
  const scalars = { n, channels: 1, seed: 0, channelLength: n, blockAxis: 1 };
  const calls = plan.steps.map((step) => {
    const args = step.params.map((name) => {
      const a = step.args[name];
      if (a === undefined) throw new Error(`step ${step.kernel} binds no ${name}`);
      return "buffer" in a ? (at.get(a.buffer) ?? Number.NaN) : "scalar" in a ? scalars[a.scalar] : a.constant;
    });
    const fn = set.raw[step.kernel];
    return () => fn(...args);
  });
  const outputs = () =>
    Object.fromEntries(
      plan.buffers
        .filter((d) => d.role === "output")
        .map((d) => [d.name, new ARRAYS[d.storage](set.heap.memory.buffer, at.get(d.name), sizeOf(d.length, n, 1)).slice()] as const),
    );
  return { run: () => calls.forEach((call) => call()), outputs };
}
