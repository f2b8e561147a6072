/** Loads rendered JS kernels in memory (the kernel package writes the same text as an ES module). */
import type { KernelModule } from "../../codegen/ir/nodes.ts";
import { renderJs } from "./render.ts";

// biome-ignore lint: the kernels take typed arrays and numbers positionally
export type JsKernel = (...args: (ArrayLike<number> | number)[]) => void;

/** Compiles the module's kernels into callable functions, by kernel name. */
export function loadJs(module: KernelModule): Readonly<Record<string, JsKernel>> {
  const source = renderJs(module);
  // The source is generated from validated IR: identifiers checked, constants numeric literals.
  return new Function(`"use strict";\n${source}\nreturn kernels;`)() as Record<string, JsKernel>;
}
