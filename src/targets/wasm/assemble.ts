/**
 * WebAssembly text → binary with wabt, and what the engine accepts. wabt initializes
 * asynchronously (it is itself a wasm module), so an assembler is created once and then
 * assembles synchronously.
 */
import wabt from "wabt";

/** The post-MVP features rendered kernels use: SIMD and non-trapping float → int. */
export const KERNEL_FEATURES = { simd: true, sat_float_to_int: true, bulk_memory: true } as const;

export interface WasmAssembler {
  /** The binary of a WAT module (throws with wabt's diagnostics if it does not assemble or validate). */
  assemble(wat: string, options?: { readonly relaxedSimd?: boolean }): Uint8Array<ArrayBuffer>;
}

/** Starts wabt and returns an assembler bound to it. */
export async function createWasmAssembler(): Promise<WasmAssembler> {
  const tools = await wabt();
  return {
    assemble(wat, options = {}) {
      let parsed: ReturnType<typeof tools.parseWat> | undefined;
      try {
        parsed = tools.parseWat("kernels.wat", wat, { ...KERNEL_FEATURES, relaxed_simd: options.relaxedSimd === true });
        parsed.resolveNames();
        parsed.validate();
        return Uint8Array.from(parsed.toBinary({}).buffer);
      } catch (error) {
        throw new Error(`WebAssembly text did not assemble: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        parsed?.destroy();
      }
    },
  };
}

/** A module using the relaxed-SIMD instructions the GEMM would use (fused multiply-add, i8 dot product). */
const RELAXED_SIMD_PROBE = `(module
  (func (export "madd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "dot") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2))))
`;

/** Whether this engine validates relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd). */
export function engineHasRelaxedSimd(assembler: WasmAssembler): boolean {
  return WebAssembly.validate(assembler.assemble(RELAXED_SIMD_PROBE, { relaxedSimd: true }));
}

/** Whether this engine validates the SIMD and saturating-conversion instructions kernels use. */
export function engineHasSimd(assembler: WasmAssembler): boolean {
  return WebAssembly.validate(
    assembler.assemble(`(module (func (export "f") (param v128) (result v128) (i32x4.trunc_sat_f32x4_u (local.get 0))))`),
  );
}
