// The JS backend of a numforge kernel package: the generated kernels, callable with typed arrays.
import kernels from "./kernels.js";

/** Always available. */
export function create() {
  return { name: "js", kernels };
}
