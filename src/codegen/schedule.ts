/**
 * Schedules: how a target wants a kernel's loop nest laid out, kept apart from the algorithm
 * (as in Halide). The GEMM lowering reads only these numbers; a target picks them and passes
 * them in, and every schedule computes the same function (results differ only by the rounding
 * order that `kc` fixes, see lower/gemm/gemm.ts).
 */

/**
 * The GEMM loop nest of GotoBLAS / BLIS: jc (nc columns of C) → pc (kc of the depth; B panel
 * packed) → ic (mc rows; A block packed) → jr (nr) → ir (mr) → a register-tiled micro-kernel
 * with mr×nr accumulators held in locals, fully unrolled at lowering time.
 */
export interface GemmSchedule {
  /** Rows of the register tile (accumulators are mr×nr locals). */
  readonly mr: number;
  /** Columns of the register tile. */
  readonly nr: number;
  /** Depth of one packed panel; the only parameter that changes the f32 rounding order. */
  readonly kc: number;
  /** Rows of the packed A block (a multiple of mr). */
  readonly mc: number;
  /** Columns of the packed B panel (a multiple of nr). */
  readonly nc: number;
  /**
   * Pack (and decode) operands into contiguous f32/i32 panels once per block; when false the
   * micro-kernel reads and decodes the operands in place (for tiny problems and for testing).
   */
  readonly pack: boolean;
}

/**
 * The JS target's GEMM schedule. Measured (bench/gemm-js.ts, 256³, CPU time) on a 2-core Xeon:
 * 2×4, 4×4, 2×8, 6×8 tiles and kc 128…512 all land within ~10% (0.55–0.66 GFLOP/s), because
 * the exact f32 arithmetic costs V8 four float64↔float32 conversions per multiply-add and those
 * saturate one port whatever the tiling; 4×4 keeps the locals in registers and the code small.
 */
export const JS_GEMM_SCHEDULE: GemmSchedule = Object.freeze({ mr: 4, nr: 4, kc: 256, mc: 64, nc: 512, pack: true });

const MAX_TILE_ACCUMULATORS = 64;

/** Returns the schedule if it is well formed, else throws saying which field is wrong and why. */
export function checkGemmSchedule(schedule: GemmSchedule): GemmSchedule {
  const positive = (field: keyof GemmSchedule, value: number) => {
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 20) throw new Error(`GEMM schedule: ${field} must be an integer in [1, 2^20], got ${value}`);
  };
  positive("mr", schedule.mr);
  positive("nr", schedule.nr);
  positive("kc", schedule.kc);
  positive("mc", schedule.mc);
  positive("nc", schedule.nc);
  if (schedule.mr * schedule.nr > MAX_TILE_ACCUMULATORS)
    throw new Error(`GEMM schedule: an mr×nr = ${schedule.mr}×${schedule.nr} register tile has more than ${MAX_TILE_ACCUMULATORS} accumulators`);
  if (schedule.mc % schedule.mr !== 0) throw new Error(`GEMM schedule: mc (${schedule.mc}) must be a multiple of mr (${schedule.mr})`);
  if (schedule.nc % schedule.nr !== 0) throw new Error(`GEMM schedule: nc (${schedule.nc}) must be a multiple of nr (${schedule.nr})`);
  if (typeof schedule.pack !== "boolean") throw new Error("GEMM schedule: pack must be a boolean");
  return schedule;
}
