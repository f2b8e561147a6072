/**
 * Narrow code buffers for WGSL, an IR → IR pass: WGSL storage has no 8- or 16-bit integers, so
 * a u8/i8 buffer becomes an array of u32 words holding four codes (u16: two), little-endian as
 * the host's bytes are. A load reads its word and shifts and masks (i8 sign-extends with an
 * arithmetic shift); a store merges its code into the word (read, clear, or, write).
 *
 * The merge is a plain read-modify-write: it is race-free only while no two invocations store
 * into the same word. The schedule (schedule.ts) guarantees that by giving each invocation whole
 * words (or phases whose iterations never share one); single-invocation kernels are sequential.
 */
import { and, asI32, asU32, i32, load, not, or, ref, shl, shr, sub, typeOf, u32 } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param, StorageType, Stmt } from "../../codegen/ir/nodes.ts";
import { freshNames } from "./kernel.ts";

const NARROW: Partial<Record<StorageType, { readonly perWord: number; readonly bits: number }>> = {
  u8: { perWord: 4, bits: 8 },
  i8: { perWord: 4, bits: 8 },
  u16: { perWord: 2, bits: 16 },
};

/** Elements per u32 word of a buffer of this storage type (1 for 32-bit storage). */
export function packFactor(storage: StorageType): number {
  return NARROW[storage]?.perWord ?? 1;
}

interface Layout {
  readonly storage: StorageType;
  readonly perWord: number;
  readonly bits: number;
}

const log2 = (x: number) => Math.log2(x);
/** A constant of the index's integer type. */
const like = (index: Expr, value: number) => (typeOf(index) === "u32" ? u32(value) : i32(value));

/** The word index and the bit offset (u32) of element `index`. */
function position(index: Expr, layout: Layout): { word: Expr; shift: Expr } {
  const word = shr(index, like(index, log2(layout.perWord)));
  const shift = shl(asU32(and(index, like(index, layout.perWord - 1))), u32(log2(layout.bits)));
  return { word, shift };
}

/** Packs the kernel's narrow buffers; returns the new kernel and the elements per word of each packed buffer. */
export function packKernel(kernel: Kernel): { readonly kernel: Kernel; readonly packed: Readonly<Record<string, number>> } {
  const layouts = new Map<string, Layout>();
  for (const p of kernel.params) {
    if (p.kind !== "buffer") continue;
    const narrow = NARROW[p.storage];
    if (narrow !== undefined) layouts.set(p.name, { storage: p.storage, ...narrow });
  }
  if (layouts.size === 0) return { kernel, packed: {} };
  const fresh = freshNames(kernel);
  const where = (what: string) => `${kernel.name}: ${what}`;

  const expr = (e: Expr): Expr => {
    switch (e.kind) {
      case "const":
      case "ref":
        return e;
      case "unary":
      case "convert":
      case "splat":
      case "extract":
        return { ...e, arg: expr(e.arg) } as Expr;
      case "binary":
      case "compare":
        return { ...e, a: expr(e.a), b: expr(e.b) };
      case "select":
        return { ...e, cond: expr(e.cond), then: expr(e.then), else: expr(e.else) };
      case "lookup":
        return { ...e, index: expr(e.index) };
      case "load": {
        const index = expr(e.index);
        const layout = layouts.get(e.buffer);
        if (layout === undefined) return { ...e, index };
        if (e.type === "f32" || e.type === "bool") throw new Error(where(`${e.type} load from the ${layout.storage} buffer ${e.buffer}`));
        const { word, shift } = position(index, layout);
        const bits = load("u32", e.buffer, word);
        const value =
          layout.storage === "i8"
            ? shr(asI32(shl(bits, sub(u32(24), shift))), i32(24))
            : and(shr(bits, shift), u32(2 ** layout.bits - 1));
        return e.type === "i32" ? asI32(value) : asU32(value);
      }
    }
  };

  const stmts = (list: readonly Stmt[]): Stmt[] =>
    list.flatMap((s): Stmt[] => {
      switch (s.kind) {
        case "let":
          return [{ ...s, value: expr(s.value) }];
        case "var":
          return [{ ...s, init: expr(s.init) }];
        case "assign":
          return [{ ...s, value: expr(s.value) }];
        case "for":
          return [{ ...s, from: expr(s.from), to: expr(s.to), body: stmts(s.body) }];
        case "if":
          return [{ ...s, cond: expr(s.cond), then: stmts(s.then), else: stmts(s.else) }];
        case "store": {
          const index = expr(s.index);
          const value = expr(s.value);
          const layout = layouts.get(s.buffer);
          if (layout === undefined) return [{ ...s, index, value }];
          const type = typeOf(value);
          if (type === "f32" || type.endsWith("x4")) throw new Error(where(`${type} store to the ${layout.storage} buffer ${s.buffer}`));
          const { word, shift } = position(index, layout);
          const w = fresh(`${s.buffer}_word`);
          const at = fresh(`${s.buffer}_shift`);
          const old = fresh(`${s.buffer}_old`);
          const mask = u32(2 ** layout.bits - 1);
          const wordRef = ref(typeOf(index), w);
          const shiftRef = ref("u32", at);
          const merged = or(and(ref("u32", old), not(shl(mask, shiftRef))), shl(and(asU32(value), mask), shiftRef));
          return [
            { kind: "let", name: w, value: word },
            { kind: "let", name: at, value: shift },
            { kind: "let", name: old, value: load("u32", s.buffer, wordRef) },
            { kind: "store", buffer: s.buffer, index: wordRef, value: merged },
          ];
        }
      }
    });

  const params = kernel.params.map((p): Param => (p.kind === "buffer" && layouts.has(p.name) ? { ...p, storage: "u32" } : p));
  const packed = Object.fromEntries([...layouts].map(([name, l]) => [name, l.perWord] as const));
  return { kernel: { ...kernel, params, body: stmts(kernel.body) }, packed };
}
