/**
 * The format's compiled kernels running in the page: the kernel package `numforge explore` wrote
 * for each built-in (kernels/NAME/, the files `numforge compile --target wasm,wgsl` writes) is
 * imported as it is, sample values go through its encode and decode, on WebAssembly and, where
 * the browser has an adapter, on WebGPU, and every code and value is set beside the exact
 * semantics the page computed itself.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { dequantize, quantize } from "../../dsl/semantics/tensor.ts";
import { kernelSampleValues } from "../analysis.ts";
import { exactNumber, hexCode } from "../../cli/render/numbers.ts";
import { element } from "./dom.ts";

type Codes = ArrayLike<number>;
interface KernelApi {
  readonly target?: string;
  encode(x: Float32Array): { codes: Codes; meta: unknown } | Promise<{ codes: Codes; meta: unknown }>;
  decode(codes: Codes, meta: unknown): Float32Array | Promise<Float32Array>;
  destroy?(): void;
}

/** One target's run over the sample values, and whether it matched the semantics everywhere. */
export interface KernelRun {
  readonly target: string;
  readonly codes: number[];
  readonly values: number[];
  readonly agree: number;
}

const sameF32 = (a: number, b: number) => Object.is(Math.fround(a), Math.fround(b)) || (Number.isNaN(a) && Number.isNaN(b));

/** Runs the kernels of `format` into `panel`; says in words why a target did not run. */
export async function showKernels(panel: HTMLElement, format: ResolvedFormat, hasKernels: boolean): Promise<void> {
  panel.replaceChildren(element("h2", {}, "Kernels in the page"));
  const status = (id: string, text: string, data: Record<string, string> = {}) => panel.append(element("p", { id, class: "status", ...data }, text));
  if (!hasKernels) {
    status("kernel-wasm", `${format.name} is not one of the built-ins this site has kernels for; run \`numforge compile\` on the spec to get them. The values above come from the exact semantics.`, { "data-state": "absent" });
    return;
  }
  const x = kernelSampleValues(format);
  const expected = quantize(format, x);
  const expectedValues = dequantize(format, expected.codes, expected.meta);
  const base = new URL(`kernels/${format.name}/`, document.baseURI).href;
  const runs: KernelRun[] = [];

  const check = async (api: KernelApi, target: string): Promise<KernelRun> => {
    const { codes, meta } = await api.encode(x);
    const values = await api.decode(codes, meta);
    let agree = 0;
    for (let i = 0; i < x.length; i++) if (codes[i] === expected.codes[i] && sameF32(values[i], expectedValues[i])) agree++;
    return { target, codes: Array.from(codes), values: Array.from(values), agree };
  };

  try {
    const api = (await import(`${base}index.js`)) as KernelApi;
    const run = await check(api, api.target ?? "wasm");
    runs.push(run);
    status("kernel-wasm", `${run.target}: ${run.agree} of ${x.length} sample values encode and decode exactly as the semantics`, {
      "data-state": run.agree === x.length ? "agree" : "differ",
      "data-target": run.target,
    });
  } catch (error) {
    status("kernel-wasm", `WebAssembly kernels did not run: ${String(error)}`, { "data-state": "failed" });
  }

  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
  if (gpu === undefined || adapter === null) {
    status("kernel-webgpu", `WebGPU: ${gpu === undefined ? "this browser has no WebGPU" : "no WebGPU adapter in this browser"}; the WGSL kernels did not run`, { "data-state": "unavailable" });
  } else {
    try {
      const module = (await import(`${base}wgsl/index.js`)) as { createGpuKernels(source: unknown): Promise<KernelApi> };
      const api = await module.createGpuKernels(adapter);
      const run = await check(api, "webgpu");
      api.destroy?.();
      runs.push(run);
      status("kernel-webgpu", `WebGPU: ${run.agree} of ${x.length} sample values encode and decode exactly as the semantics`, {
        "data-state": run.agree === x.length ? "agree" : "differ",
        "data-target": "webgpu",
      });
    } catch (error) {
      status("kernel-webgpu", `WebGPU kernels did not run: ${String(error)}`, { "data-state": "failed" });
    }
  }
  panel.append(sampleTable(format, x, expected.codes, expectedValues, runs));
}

function sampleTable(format: ResolvedFormat, x: Float32Array, codes: Codes, values: Float32Array, runs: readonly KernelRun[]): HTMLTableElement {
  const hex = (c: number) => hexCode(c, format.bits);
  const head = ["input", "semantics code", "semantics value", ...runs.flatMap((r) => [`${r.target} code`, `${r.target} value`])];
  const rows = Array.from(x, (v, i) =>
    element(
      "tr",
      { "data-input": exactNumber(v) },
      element("td", {}, exactNumber(v)),
      element("td", { class: "code" }, hex(codes[i])),
      element("td", {}, exactNumber(values[i])),
      ...runs.flatMap((r) => {
        const ok = r.codes[i] === codes[i] && sameF32(r.values[i], values[i]);
        return [
          element("td", { class: ok ? "code" : "code differs", "data-target": r.target, "data-code": String(r.codes[i]) }, hex(r.codes[i])),
          element("td", { class: ok ? "" : "differs", "data-target": r.target }, exactNumber(r.values[i])),
        ];
      }),
    ),
  );
  return element("table", { id: "kernel-samples", class: "samples" }, element("thead", {}, element("tr", {}, ...head.map((h) => element("th", {}, h)))), element("tbody", {}, ...rows));
}
