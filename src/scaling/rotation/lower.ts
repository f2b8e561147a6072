/**
 * The rotation as an IR kernel, one per size n (the butterflies are unrolled at lowering time, so
 * the n values of a block live in locals — the IR has no local arrays). It computes exactly
 * semantics.ts: signs, log2(n) stages of fl(a ± b), then one multiply by fl(1/√n), block by block,
 * the tail of each lane copied. Reading x and writing y (never the same buffer) keeps the kernel
 * a plain loop nest for every target.
 */
import { add, f32, i32, kernel, load, mul, ref, shl, shr, sub } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, KernelModule } from "../../codegen/ir/nodes.ts";
import type { OpPlan, Step } from "../../codegen/plan.ts";
import { HADAMARD_SIZES, rotationScale, type HadamardSize } from "./hadamard.ts";

/** The kernel's name for size n; its parameters are (x, y, signs, lanes, k). */
export const rotationKernelName = (n: HadamardSize) => `rotate_hadamard_${n}`;

/** The rotation kernels' parameters, in order (rotatedPlan binds them by these names). */
const ROTATION_PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "y", storage: "f32", access: "write" },
  { kind: "buffer", name: "signs", storage: "f32", access: "read" },
  { kind: "scalar", name: "lanes", type: "i32" },
  { kind: "scalar", name: "k", type: "i32" },
] as const;

/** rotate_hadamard_n(x, y, signs, lanes, k): y = the rotation of x (lanes × k) with the n signs given. */
export function lowerRotation(n: HadamardSize): Kernel {
  const log2n = Math.log2(n);
  return kernel(rotationKernelName(n), ROTATION_PARAMS, (b) => {
    const k = ref("i32", "k");
    const blocks = b.let("blocks", shr(k, i32(log2n)));
    const full = b.let("full", shl(blocks, i32(log2n)));
    b.for("lane", i32(0), ref("i32", "lanes"), (lane, body) => {
      const base = body.let("base", mul(lane, k));
      body.for("block", i32(0), blocks, (block, inner) => {
        const start = inner.let("start", add(base, shl(block, i32(log2n))));
        let v: Expr[] = [];
        for (let j = 0; j < n; j++) v.push(inner.let(`v${j}`, mul(load("f32", "x", add(start, i32(j))), load("f32", "signs", i32(j)))));
        for (let h = 1; h < n; h <<= 1) {
          const next = v.slice();
          for (let j = 0; j < n; j++) {
            if ((j & h) !== 0) continue;
            next[j] = inner.let(`s${h}_${j}`, add(v[j], v[j + h]));
            next[j + h] = inner.let(`d${h}_${j}`, sub(v[j], v[j + h]));
          }
          v = next;
        }
        for (let j = 0; j < n; j++) inner.store("y", add(start, i32(j)), mul(v[j], f32(rotationScale(n))));
      });
      body.for("tail", full, k, (j, inner) => inner.store("y", add(base, j), load("f32", "x", add(base, j))));
    });
  });
}

/** Every size's kernel, as one module a target compiles. */
export function rotationModule(): KernelModule {
  return { kernels: HADAMARD_SIZES.map(lowerRotation) };
}

/** The buffers rotatedPlan adds: the rotated copy the format's steps read in place of x, and the signs (an input of `size` floats: rotationSigns). */
export const ROTATED = "rotated";
export const ROTATION_SIGNS = "rotation_signs";

/**
 * A format's plan (fakeQuantize) run on the rotation of x, in the format's own module (its kernels
 * compiled with lowerRotation(size): KernelSource.load's extra kernels): a first step rotates x —
 * `channels` lanes of `channelLength`, the call's rows — into a scratch that every later step reads
 * instead of x. The tensor is copied into the module's memory once and the values out once, where a
 * rotation module of its own took two copies more.
 */
export function rotatedPlan(plan: OpPlan, size: HadamardSize): OpPlan {
  const rotate: Step = {
    kernel: rotationKernelName(size),
    params: ROTATION_PARAMS.map((p) => p.name),
    args: { x: { buffer: "x" }, y: { buffer: ROTATED }, signs: { buffer: ROTATION_SIGNS }, lanes: { scalar: "channels" }, k: { scalar: "channelLength" } },
  };
  const readRotated = (step: Step): Step => ({
    ...step,
    args: Object.fromEntries(Object.entries(step.args).map(([param, arg]) => [param, "buffer" in arg && arg.buffer === "x" ? { buffer: ROTATED } : arg])),
  });
  return {
    buffers: [...plan.buffers, { name: ROTATED, storage: "f32", length: { perElement: 1 }, role: "scratch" }, { name: ROTATION_SIGNS, storage: "f32", length: { constant: size }, role: "input" }],
    steps: [rotate, ...plan.steps.map(readRotated)],
  };
}
