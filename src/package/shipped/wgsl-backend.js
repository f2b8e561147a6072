// The WGSL target as seen by the synchronous entry (index.js): never usable there, since WebGPU
// runs asynchronously on a device the caller provides. The entry records this reason and moves on.
export function create() {
  throw new Error('WebGPU kernels are asynchronous: use createGpuKernels from this package\'s "./wgsl" entry');
}
