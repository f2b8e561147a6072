#!/usr/bin/env node
// Standalone WebGPU smoke test: `node scripts/webgpu-probe.mjs`.
// Loads the `webgpu` npm package (Dawn for Node), gets an adapter and device,
// runs a compute shader that doubles a u32 and an f32 storage buffer, reads them
// back and checks every element. Exits 0 on success, non-zero with a message
// that says what to install otherwise. On a machine without a GPU the adapter is
// Mesa's lavapipe (software Vulkan), installed by scripts/setup-webgpu.sh.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const INSTALL_HINT = [
  'On Debian bookworm run (as root): bash scripts/setup-webgpu.sh',
  '  (it installs mesa-vulkan-drivers >= 25 from bookworm-backports and libvulkan1;',
  '   bookworm\'s own Mesa 22.3 lavapipe lacks shaderUniform*ArrayDynamicIndexing, which Dawn requires).',
].join('\n');

function fail(msg, code = 1) {
  console.error(`webgpu-probe: FAIL: ${msg}`);
  process.exit(code);
}

// Give up instead of hanging CI if the driver wedges.
const watchdog = setTimeout(() => fail('timed out after 60 s'), 60_000);
watchdog.unref();

// Extra diagnosis for the "no adapter" case: what of the Vulkan stack is there?
function vulkanDiagnosis() {
  const lines = [];
  let mesa = '';
  try {
    mesa = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch { /* not Debian, or not installed */ }
  lines.push(`  mesa-vulkan-drivers: ${mesa || 'not installed (or not a dpkg system)'}`);
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].find(existsSync);
  lines.push(`  Vulkan loader (libvulkan1): ${loader ?? 'not found'}`);
  const icd = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find(existsSync);
  lines.push(`  lavapipe ICD: ${icd ?? 'not found'}`);
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) {
    lines.push(`  note: VK_ICD_FILENAMES/VK_DRIVER_FILES is set (${process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES}); unset it or point it at lvp_icd*.json`);
  }
  return lines.join('\n');
}

let webgpu;
try {
  webgpu = await import('webgpu');
} catch (e) {
  fail(`cannot load the 'webgpu' npm package (${e.code ?? ''} ${e.message.split('\n')[0]}).\n` +
    'Install it with `npm ci` (webgpu is listed in package.json).');
}
const { create, globals } = webgpu;
Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ... as in a browser

// Keep `gpu` referenced only locally: Dawn keeps Node alive while it exists.
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  fail(`no WebGPU adapter found (Dawn found no usable Vulkan device).\n${vulkanDiagnosis()}\n${INSTALL_HINT}`);
}

const info = adapter.info;
console.log(`adapter: vendor=${info.vendor} architecture=${info.architecture} device=${info.device} ` +
  `description="${info.description}" fallback=${info.isFallbackAdapter}`);
const L = adapter.limits;
console.log(`limits: maxComputeWorkgroupStorageSize=${L.maxComputeWorkgroupStorageSize} ` +
  `maxComputeInvocationsPerWorkgroup=${L.maxComputeInvocationsPerWorkgroup} ` +
  `maxStorageBufferBindingSize=${L.maxStorageBufferBindingSize} maxBufferSize=${L.maxBufferSize}`);
console.log(`features: shader-f16=${adapter.features.has('shader-f16')} subgroups=${adapter.features.has('subgroups')}`);

const device = await adapter.requestDevice();
let gpuError = null;
device.addEventListener('uncapturederror', (e) => { gpuError ??= e.error.message; });
device.lost.then((l) => { if (l.reason !== 'destroyed') fail(`device lost: ${l.message}`); });

const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> U: array<u32>;
@group(0) @binding(1) var<storage, read_write> F: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < arrayLength(&U)) { U[i] = U[i] * 2u; }
  if (i < arrayLength(&F)) { F[i] = F[i] * 2.0; }
}`;

const N = 1000;
const u = new Uint32Array(N);
const f = new Float32Array(N);
for (let i = 0; i < N; i++) { u[i] = (i * 2654435761) >>> 0; f[i] = Math.fround((i - 500) * 0.37); }
u[0] = 0x7fffffff; u[1] = 0x80000001; // wrap-around: u32 arithmetic is modulo 2^32
f[0] = 1e-40; // subnormal; lavapipe keeps it (2e-40), a flushing GPU would give 0
const wantU = u.map((x) => (x * 2) >>> 0);
const wantF = f.map((x) => Math.fround(x * 2));

const module = device.createShaderModule({ code });
for (const m of (await module.getCompilationInfo()).messages) {
  if (m.type === 'error') fail(`WGSL compile error: ${m.message}`);
}
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const mkStorage = (data) => {
  const b = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data);
  return b;
};
const bufU = mkStorage(u);
const bufF = mkStorage(f);
const readU = device.createBuffer({ size: u.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const readF = device.createBuffer({ size: f.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const bindGroup = device.createBindGroup({
  layout: pipeline.getBindGroupLayout(0),
  entries: [{ binding: 0, resource: { buffer: bufU } }, { binding: 1, resource: { buffer: bufF } }],
});
const enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(pipeline);
pass.setBindGroup(0, bindGroup);
pass.dispatchWorkgroups(Math.ceil(N / 64));
pass.end();
enc.copyBufferToBuffer(bufU, 0, readU, 0, u.byteLength);
enc.copyBufferToBuffer(bufF, 0, readF, 0, f.byteLength);
device.queue.submit([enc.finish()]);

await Promise.all([readU.mapAsync(GPUMapMode.READ), readF.mapAsync(GPUMapMode.READ)]);
const gotU = new Uint32Array(readU.getMappedRange().slice(0));
const gotF = new Float32Array(readF.getMappedRange().slice(0));
readU.unmap();
readF.unmap();
if (gpuError) fail(`GPU validation error: ${gpuError}`);

const bits = (x) => new Uint32Array(Float32Array.of(x).buffer)[0];
let bad = 0;
for (let i = 0; i < N; i++) {
  if (gotU[i] !== wantU[i]) { if (bad++ < 5) console.error(`u32[${i}]: got ${gotU[i]} want ${wantU[i]}`); }
  if (bits(gotF[i]) !== bits(wantF[i])) { if (bad++ < 5) console.error(`f32[${i}]: got ${gotF[i]} want ${wantF[i]}`); }
}
device.destroy();
if (bad) fail(`${bad} wrong values from the doubling shader`, 3);
console.log(`webgpu-probe: OK (doubled ${N} u32 and ${N} f32 values on ${info.vendor} ${info.architecture})`);
process.exit(0);
