/** The targets `numforge compile --target` accepts, in order of preference at run time. */
import type { Target } from "./target.ts";
import { jsTarget } from "./js/index.ts";
import { wasmTarget } from "./wasm/index.ts";
import { wgslTarget } from "./wgsl/index.ts";

/** wgsl is last: the synchronous entry never uses it (its kernels are asynchronous, see wgsl/index.ts). */
export const TARGETS: readonly Target[] = [wasmTarget, jsTarget, wgslTarget];
