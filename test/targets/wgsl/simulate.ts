/**
 * Runs a kernel as the WGSL target lowers it (schedule → pack → fold), with the IR interpreter
 * standing in for the GPU: every dispatch, every invocation, one after the other, on packed u32
 * words. It records which invocation stores into which word, so a schedule that lets two
 * invocations of one dispatch write the same word (a race on the GPU) is caught without one.
 */
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Kernel, StorageType } from "../../../src/codegen/ir/nodes.ts";
import { lowerForWgsl } from "../../../src/targets/wgsl/compile.ts";
import type { WgslKernelIR, WgslPass } from "../../../src/targets/wgsl/kernel.ts";
import { dispatches, scratchLength } from "../../../src/targets/wgsl/launch.ts";

type Arg = ArrayLike<number> | number;
type Store = ArrayLike<number> & { [i: number]: number };

const WIDE: Partial<Record<StorageType, (buffer: ArrayBuffer) => Store>> = {
  f32: (b) => new Float32Array(b),
  i32: (b) => new Int32Array(b),
  u32: (b) => new Uint32Array(b),
};

/** A kernel function with the JS calling convention that simulates the WGSL lowering; `races` collects conflicts. */
export function simulatedKernel(kernel: Kernel, races: string[], maxWorkgroups = 2): (...args: Arg[]) => void {
  const ir: WgslKernelIR = lowerForWgsl(kernel);
  return (...args: Arg[]) => {
    const scalars: Record<string, number> = {};
    const words = new Map<string, { readonly view: Store; readonly array: ArrayLike<number> | null; readonly bytes: Uint8Array }>();
    ir.params.forEach((p, k) => {
      const arg = args[k];
      if (p.kind === "scalar") {
        scalars[p.name] = arg as number;
        return;
      }
      const array = arg as unknown as ArrayLike<number> & ArrayBufferView;
      const bytes = new Uint8Array(Math.max(4, Math.ceil(array.byteLength / 4) * 4));
      bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      const storage = ir.packed[p.name] === undefined ? p.storage : "u32";
      const make = WIDE[storage];
      if (make === undefined) throw new Error(`${kernel.name}: ${p.name} is ${storage} after packing`);
      words.set(p.name, { view: make(bytes.buffer), array, bytes });
    });
    const first = ir.passes[0];
    const entries = scratchLength(first.launch, ir.params, first.kernel.tables, scalars);
    for (const s of ir.scratch) {
      const bytes = new Uint8Array(Math.max(4, 4 * entries)).fill(0xa5); // never read before written
      words.set(s.name, { view: (WIDE[s.storage] as (b: ArrayBuffer) => Store)(bytes.buffer), array: null, bytes });
    }
    for (const pass of ir.passes) simulatePass(kernel.name, pass, ir, scalars, words, races, maxWorkgroups);
    for (const [, w] of words) {
      if (w.array === null) continue;
      const target = w.array as unknown as ArrayBufferView;
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(w.bytes.subarray(0, target.byteLength));
    }
  };
}

function simulatePass(
  name: string,
  pass: WgslPass,
  ir: WgslKernelIR,
  scalars: Readonly<Record<string, number>>,
  words: ReadonlyMap<string, { readonly view: Store }>,
  races: string[],
  maxWorkgroups: number,
): void {
  const launch = pass.launch;
  for (const d of dispatches(launch, ir.params, pass.kernel.tables, scalars, maxWorkgroups)) {
    const owner = new Map<string, string>();
    const width = d.workgroups[0] * d.workgroupSize[0];
    for (let k = 0; k < width * d.workgroups[1] * d.workgroupSize[1]; k++) {
      const gx = k % width;
      const gy = Math.floor(k / width);
      const who = `(${gx}, ${gy})`;
      const buffers: Record<string, Store> = {};
      for (const [buffer, w] of words)
        buffers[buffer] = new Proxy(w.view, {
          get: (target, key) => Reflect.get(target, key),
          set(target, key, value) {
            if (typeof key === "string" && /^\d+$/.test(key)) {
              const slot = `${buffer}[${key}]`;
              const first = owner.get(slot);
              if (first !== undefined && first !== who && races.length < 10) races.push(`${name}: word ${slot} written by invocations ${first} and ${who}`);
              owner.set(slot, who);
            }
            return Reflect.set(target, key, value);
          },
        });
      const ids = launch.kind === "grid" ? { [launch.scalars.invocationX]: gx, [launch.scalars.invocationY]: gy } : {};
      interpret(pass.kernel, { ...scalars, ...d.scalars, ...ids, ...buffers });
    }
  }
}
