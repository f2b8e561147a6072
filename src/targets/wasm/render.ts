/**
 * The wasm target's renderer: a pure function from (vectorized) IR to WebAssembly text. One
 * memory imported as `env.memory`; each kernel is an exported function whose buffer parameters
 * are i32 byte offsets into it; constant tables sit in a data segment at address 0 and the
 * module exports `heap_base`, the first byte the host may allocate (buffers live at or above it).
 * No mutable globals.
 */
import { assertNever, type StorageType, type Table, type TargetCapabilities } from "../../codegen/ir/nodes.ts";
import { type ExprContext, MIN_BUFFER_OFFSET, renderExpr, renderNarrowStore, renderStore, wasmType, type WasmType } from "./instructions.ts";
import { bytesLiteral, f32Bits, intBits, watId } from "./literals.ts";
import { simdTypeOf, type SimdKernel, type SimdModule, type SimdStmt } from "./simd-ir.ts";

const PAGE_BYTES = 65536;
const TABLE_ALIGN = 16;
/** What the wasm target renders beyond the core IR: scalar f64 (the vectorizer keeps f64 loops scalar). */
export const WASM_CAPABILITIES: TargetCapabilities = Object.freeze({ f64: true });

/** The exported global holding the first free byte. */
export const HEAP_BASE = "heap_base";

/** Where the module's constant tables live and where the host's heap starts. */
export interface WasmLayout {
  /** Byte offset of each kernel's tables, by kernel name then table name. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, { readonly offset: number; readonly storage: Table["storage"] }>>;
  readonly data: Uint8Array;
  /** First free byte (16-aligned, ≥ MIN_BUFFER_OFFSET: constant index offsets fold into memory operands). */
  readonly heapBase: number;
  /** Pages the imported memory must have at instantiation. */
  readonly minPages: number;
}

function tableBytes(table: Table): Uint8Array {
  const bytes = new Uint8Array(table.values.length * 4);
  const view = new DataView(bytes.buffer);
  table.values.forEach((v, i) => {
    if (table.storage === "f32") view.setUint32(i * 4, f32Bits(v), true);
    else view.setUint32(i * 4, intBits(table.storage, v), true);
  });
  return bytes;
}

/** Lays the tables of every kernel out in one data segment (identical tables shared). */
export function wasmLayout(module: SimdModule): WasmLayout {
  const byContent = new Map<string, number>();
  const chunks: Uint8Array[] = [];
  let end = 0;
  const tables = new Map<string, Map<string, { offset: number; storage: Table["storage"] }>>();
  for (const k of module.kernels) {
    const own = new Map<string, { offset: number; storage: Table["storage"] }>();
    for (const t of k.tables) {
      watId(t.name);
      if (own.has(t.name)) throw new Error(`${k.name}: table ${t.name} declared twice`);
      const bytes = tableBytes(t);
      const key = `${t.storage}:${Array.from(bytes).join(",")}`;
      let offset = byContent.get(key);
      if (offset === undefined) {
        offset = end;
        byContent.set(key, offset);
        const padded = new Uint8Array(Math.ceil(bytes.length / TABLE_ALIGN) * TABLE_ALIGN);
        padded.set(bytes);
        chunks.push(padded);
        end += padded.length;
      }
      own.set(t.name, { offset, storage: t.storage });
    }
    tables.set(k.name, own);
  }
  const data = new Uint8Array(end);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const heapBase = Math.max(MIN_BUFFER_OFFSET, end);
  return { tables, data, heapBase, minPages: Math.max(1, Math.ceil(heapBase / PAGE_BYTES)) };
}

/** Locals of one function: IR names (one wasm local per name and wasm type) and temporaries. */
class Locals {
  private readonly ids = new Map<string, Map<WasmType, string>>();
  private readonly declared: string[] = [];
  private temps = 0;
  private labels = 0;

  constructor(readonly params: ReadonlyMap<string, WasmType>) {
    for (const [name, type] of params) this.ids.set(name, new Map([[type, watId(name)]]));
  }
  declare(name: string, type: WasmType): string {
    const byType = this.ids.get(name) ?? new Map<WasmType, string>();
    this.ids.set(name, byType);
    let id = byType.get(type);
    if (id === undefined) {
      id = byType.size === 0 ? watId(name) : `${watId(name)}.${type}`;
      byType.set(type, id);
      this.declared.push(`(local ${id} ${type})`);
    }
    return id;
  }
  get(name: string, type: WasmType): string {
    const id = this.ids.get(name)?.get(type);
    if (id === undefined) throw new Error(`${name} (${type}) used before definition`);
    return id;
  }
  temp(type: WasmType): string {
    const id = `$.t${this.temps++}`;
    this.declared.push(`(local ${id} ${type})`);
    return id;
  }
  label(): number {
    return this.labels++;
  }
  declarations(): readonly string[] {
    return this.declared;
  }
}

function renderStmts(stmts: readonly SimdStmt[], cx: ExprContext, locals: Locals, indent: string): string[] {
  const r = (e: Parameters<typeof renderExpr>[0]) => renderExpr(e, cx);
  const out: string[] = [];
  for (const s of stmts) {
    switch (s.kind) {
      case "let":
      case "var": {
        const value = s.kind === "let" ? s.value : s.init;
        const type = wasmType(s.kind === "let" ? simdTypeOf(value) : s.type);
        const code = r(value); // rendered before declaring: the value may read an older binding
        out.push(`${indent}(local.set ${locals.declare(s.name, type)} ${code})`);
        break;
      }
      case "assign":
        out.push(`${indent}(local.set ${locals.get(s.name, wasmType(simdTypeOf(s.value)))} ${r(s.value)})`);
        break;
      case "store":
        out.push(`${indent}${renderStore(s.buffer, s.index, s.value, cx)}`);
        break;
      case "narrowStore":
        out.push(`${indent}${renderNarrowStore(s.buffer, s.index, s.values, s.narrowing, cx, s.signs)}`);
        break;
      case "for": {
        if (!Number.isInteger(s.step) || s.step <= 0 || s.step > 0x7fffffff) throw new Error(`loop ${s.index}: step ${s.step} must be a positive integer`);
        const from = r(s.from);
        const to = r(s.to);
        const i = locals.declare(s.index, "i32");
        const end = locals.temp("i32");
        const k = locals.label();
        out.push(
          `${indent}(local.set ${i} ${from})`,
          `${indent}(local.set ${end} ${to})`,
          `${indent}(block $.exit${k}`,
          `${indent}  (loop $.next${k}`,
          `${indent}    (br_if $.exit${k} (i32.ge_s (local.get ${i}) (local.get ${end})))`,
          ...renderStmts(s.body, cx, locals, `${indent}    `),
          `${indent}    (local.set ${i} (i32.add (local.get ${i}) (i32.const ${s.step})))`,
          `${indent}    (br $.next${k})))`,
        );
        break;
      }
      case "if": {
        if (simdTypeOf(s.cond) !== "bool") throw new Error(`if condition must be bool, not ${simdTypeOf(s.cond)}`);
        out.push(`${indent}(if ${r(s.cond)}`, `${indent}  (then`, ...renderStmts(s.then, cx, locals, `${indent}    `), `${indent}  )`);
        if (s.else.length > 0) out.push(`${indent}  (else`, ...renderStmts(s.else, cx, locals, `${indent}    `), `${indent}  )`);
        out.push(`${indent})`);
        break;
      }
      default:
        assertNever(s, "statement");
    }
  }
  return out;
}

function renderKernel(kernel: SimdKernel, layout: WasmLayout): string {
  const params = new Map<string, WasmType>();
  const storages = new Map<string, StorageType>();
  for (const p of kernel.params) {
    if (params.has(p.name)) throw new Error(`${kernel.name}: parameter ${p.name} declared twice`);
    params.set(p.name, p.kind === "buffer" ? "i32" : wasmType(p.type));
    if (p.kind === "buffer") storages.set(p.name, p.storage);
  }
  const locals = new Locals(params);
  const tables = layout.tables.get(kernel.name) ?? new Map();
  const cx: ExprContext = {
    local: (name, type) => locals.get(name, type),
    temp: (type) => locals.temp(type),
    storage: (buffer) => {
      const s = storages.get(buffer);
      if (s === undefined) throw new Error(`${kernel.name}: unknown buffer ${buffer}`);
      return s;
    },
    bufferBase: (buffer) => watId(buffer),
    table: (name) => {
      const t = tables.get(name);
      if (t === undefined) throw new Error(`${kernel.name}: unknown table ${name}`);
      return t;
    },
  };
  const body = renderStmts(kernel.body, cx, locals, "    ");
  const name = watId(kernel.name).slice(1);
  const header = [`  (func $${name} (export "${name}")`, ...kernel.params.map((p) => `    (param ${watId(p.name)} ${params.get(p.name)})`)];
  return [...header, ...locals.declarations().map((d) => `    ${d}`), ...body, "  )"].join("\n");
}

/** The module's WebAssembly text (assemble with simd and saturating float-to-int enabled). */
export function renderWasm(module: SimdModule): string {
  const names = new Set<string>();
  for (const k of module.kernels) {
    watId(k.name);
    if (names.has(k.name)) throw new Error(`kernel ${k.name} defined twice`);
    if (k.name === HEAP_BASE) throw new Error(`a kernel may not be named ${HEAP_BASE} (the module exports the heap base under that name)`);
    names.add(k.name);
  }
  const layout = wasmLayout(module);
  const lines = [
    "(module",
    `  (import "env" "memory" (memory ${layout.minPages}))`,
    ...(layout.data.length > 0 ? [`  (data (i32.const 0) ${bytesLiteral(layout.data)})`] : []),
    `  (global $heap_base (export "${HEAP_BASE}") i32 (i32.const ${layout.heapBase}))`,
    ...module.kernels.map((k) => renderKernel(k, layout)),
    ")",
  ];
  return `${lines.join("\n")}\n`;
}
