/**
 * Posit arithmetic as a library: the exact semantics (positArithmetic, quireGemm) and the same
 * operations compiled for a target (compilePositKernels: elementwise ops and the quire GEMM as
 * JavaScript, WebAssembly or WGSL kernels, bit-identical to the semantics).
 *
 *   const p16 = await loadFormat("posit16");
 *   positArithmetic(p16, "add", [[0x4000, 0x4000]])            // [0x5000]: 1 + 1 = 2
 *   const k = await compilePositKernels(p16, { target: "wasm" });
 *   await k.quireGemm(a, b, { m, n, k: depth })                 // codes, each output rounded once
 *
 * Bad input throws a NumforgeError naming the argument and element.
 */
import type { KernelModule } from "../codegen/ir/nodes.ts";
import { lowerQuireGemm } from "../codegen/lower/gemm/quire.ts";
import { lowerPositOpElements } from "../codegen/lower/posit-arith-elements.ts";
import { codeArray, type CodeArray } from "../dsl/semantics/codes.ts";
import { POSIT_OP_ARITY, positOp, type PositOp, type PositShape } from "../dsl/semantics/posit-arith.ts";
import { quireGemm as quireGemmSemantics, type QuireGemmShape } from "../dsl/semantics/posit-arith-quire.ts";
import { inputError } from "./errors.ts";
import type { Format } from "./formats.ts";
import type { TargetName } from "./kernels.ts";

export type { PositOp, QuireGemmShape, CodeArray };

/** Posit kernels compiled for one target. */
export interface PositKernels {
  readonly target: TargetName;
  /** out[i] = op(operands…[i]), each exact and rounded once (fma: a·b + c; sqrt: one operand). */
  op(op: PositOp, ...operands: readonly ArrayLike<number>[]): Promise<CodeArray>;
  /** C (m×n) = A (m×k) · B (k×n), row-major codes, every output summed exactly in a quire and rounded once. */
  quireGemm(a: ArrayLike<number>, b: ArrayLike<number>, shape: QuireGemmShape): Promise<CodeArray>;
}

const OPS = Object.keys(POSIT_OP_ARITY) as PositOp[];

/** The posit shape of a format, or a NumforgeError saying why it has none. */
function positShape(format: Format): PositShape {
  if (format?.element?.kind !== "posit") inputError("format", `${format?.name ?? String(format)} is not a posit format; posit arithmetic needs one`);
  if (format.scaling.kind !== "none") inputError("format", `${format.name} has ${format.scaling.kind} scaling; posit arithmetic works on unscaled codes`);
  return { n: format.element.bits, es: format.element.es };
}

function checkOp(op: string): PositOp {
  if (!(OPS as readonly string[]).includes(op)) inputError("op", `"${op}" is not a posit operation; use one of ${OPS.join(", ")}`);
  return op as PositOp;
}

/** Copies codes into the format's code array, naming the first bad element. */
function codesOf(format: Format, values: ArrayLike<number>, where: string, length?: number, item = "element"): CodeArray {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") inputError(where, "expected an array of codes");
  if (length !== undefined && values.length !== length) inputError(where, `expected ${length} codes, got ${values.length}`);
  const out = codeArray(format.bits, values.length);
  for (let i = 0; i < values.length; i++) {
    const c = values[i];
    if (!Number.isInteger(c) || c < 0 || c >= format.codeCount) inputError(`${where} ${item} ${i}`, `${c} is not a ${format.name} code (integers 0..${format.codeCount - 1})`);
    out[i] = c;
  }
  return out;
}

function checkShape(shape: QuireGemmShape): QuireGemmShape {
  for (const d of ["m", "n", "k"] as const) {
    const v = shape?.[d];
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) inputError(`shape.${d}`, `expected an integer from 0 to 2^31 − 1, got ${v}`);
  }
  if (shape.m * shape.n > 2 ** 31 - 1) inputError("shape", "m·n must stay below 2^31");
  return shape;
}

/** The result code of `op` for each operand tuple ([a, b]; [a, b, c] for fma; [a] for sqrt), exact and rounded once. */
export function positArithmetic(format: Format, op: PositOp, operands: readonly (readonly number[])[]): number[] {
  const shape = positShape(format);
  const checked = checkOp(op);
  const arity = POSIT_OP_ARITY[checked];
  if (!Array.isArray(operands)) inputError("operands", "expected an array of operand tuples");
  return operands.map((tuple, i) => {
    if (!Array.isArray(tuple) || tuple.length !== arity) inputError(`operands element ${i}`, `expected ${arity} codes`);
    return positOp(shape, checked, Array.from(codesOf(format, tuple, `operands element ${i}`, arity, "operand")));
  });
}

/** The quire GEMM's exact semantics: m·n codes. */
export function quireGemm(format: Format, a: ArrayLike<number>, b: ArrayLike<number>, shape: QuireGemmShape): number[] {
  const posit = positShape(format);
  const { m, n, k } = checkShape(shape);
  return quireGemmSemantics(posit, shape, codesOf(format, a, "a", m * k), codesOf(format, b, "b", k * n));
}

type AnyKernel = (...args: (ArrayLike<number> | number)[]) => unknown;

/** Loads a module's kernels for one target (WGSL opens a WebGPU device: Node needs a WebGPU binding). */
async function load(module: KernelModule, target: TargetName): Promise<Readonly<Record<string, AnyKernel>>> {
  switch (target) {
    case "js":
      return (await import("../targets/js/load.ts")).loadJs(module);
    case "wasm":
      return (await import("../targets/wasm/load.ts")).loadWasm(module);
    case "wgsl":
      return (await import("../targets/wgsl/runner.ts")).loadWgsl(module);
    default:
      return inputError("target", `unknown target "${String(target)}"; available: js, wasm, wgsl`);
  }
}

/** Compiles the format's posit kernels (every elementwise op and the quire GEMM) for one target. */
export async function compilePositKernels(format: Format, options: { readonly target: TargetName }): Promise<PositKernels> {
  positShape(format);
  const target = options?.target;
  const module: KernelModule = { kernels: [...OPS.map((op) => lowerPositOpElements(format, op)), lowerQuireGemm(format)] };
  const kernels = await load(module, target);
  return {
    target,
    async op(op, ...operands) {
      const checked = checkOp(op);
      const arity = POSIT_OP_ARITY[checked];
      if (operands.length !== arity) inputError("operands", `${checked} takes ${arity} operand arrays, got ${operands.length}`);
      const count = operands[0].length;
      const codes = operands.map((o, j) => codesOf(format, o, `operand ${j}`, count));
      const out = codeArray(format.bits, count);
      await kernels[`posit_${checked}`](...codes, out, count);
      return out;
    },
    async quireGemm(a, b, shape) {
      const { m, n, k } = checkShape(shape);
      const out = codeArray(format.bits, m * n);
      await kernels.quire_gemm(codesOf(format, a, "a", m * k), codesOf(format, b, "b", k * n), out, m, n, k);
      return out;
    },
  };
}
