/** The targets `numforge compile --target` accepts, in order of preference at run time. */
import type { Target } from "./target.ts";
import { jsTarget } from "./js/index.ts";
import { wasmTarget } from "./wasm/index.ts";

export const TARGETS: readonly Target[] = [wasmTarget, jsTarget];
