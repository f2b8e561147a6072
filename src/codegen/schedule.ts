/**
 * Schedules: how a target wants a kernel's loop nest laid out, kept apart from the algorithm
 * (as in Halide). The GEMM lowering reads only these numbers; a target picks them and passes
 * them in, and every schedule computes the same function (results differ only by the rounding
 * that `kc` and `accumulator` fix, see lower/gemm/gemm.ts).
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
  /** Depth of one packed panel; with `accumulator`, the only parameters that change the rounding. */
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
  /**
   * The micro-kernel's accumulators for real-valued operands: "f32" (every product and sum
   * rounded to f32), or "f64" (products exact, sums in f64, one rounding to f32 per k block;
   * only for targets with f64, see TargetCapabilities). Integer operands ignore it (exact i32).
   */
  readonly accumulator: "f32" | "f64";
  /**
   * Lanes of the target's vector registers the loop nest is laid out for (default 1: scalar).
   * With 4, nr is a multiple of 4, each k step of a packed B sliver is nr/4 groups of 4
   * consecutive values and each row of the mr×nr accumulators nr/4 groups of 4 columns, and the
   * unit-stride case of packing is emitted with constant offsets — the shape a SIMD target's
   * superword pass turns into mr·nr/4 vector accumulators (splat A × vector B), vector packing
   * and a vector merge (src/targets/wasm/superword.ts). The kernel itself stays scalar IR with
   * the same result: the interpreter and targets without SIMD run it as is.
   */
  readonly vector?: 1 | 4;
  /**
   * k steps per iteration of the micro-kernel's loop (default 1; a power of two up to 8, > 1
   * only with pack). The packed panels' depth is padded with zeros to a multiple of it: a zero
   * product added to an accumulator that starts at +0 changes nothing (the sum is never −0), so
   * the result is that of unroll 1. Each accumulator's update stays one statement, in order of k.
   */
  readonly unroll?: 1 | 2 | 4 | 8;
}

/**
 * The JS target's GEMM schedule. JS numbers are doubles, so the f64 accumulator is free: the
 * micro-kernel is plain `acc += a * b` on doubles, where f32 accumulation costs V8 four
 * float64↔float32 conversions per multiply-add (cvtsd2ss/cvtss2sd, all on one port). Measured
 * (bench/gemm-js.ts, CPU time, 2-core Xeon under load): 1.3 GFLOP/s at 128³–512³ against 0.7
 * with accumulator "f32" and 0.23–0.27 for a naive JS loop; 4×8 and 8×4 tiles were within the
 * noise of 4×4 (0–10%), which keeps the code small.
 */
export const JS_GEMM_SCHEDULE: GemmSchedule = Object.freeze({ mr: 4, nr: 4, kc: 256, mc: 64, nc: 512, pack: true, accumulator: "f64" });

/**
 * The wasm target's GEMM schedule: a 4×8 register tile in f32 (4 rows of A splat × 2 vectors of
 * B = 8 f32x4 accumulators, 11 of x86-64's 16 vector registers), f32 accumulation (f64x2 would
 * halve the width), a kc×nr B sliver (8 KiB) reused from L1 across the mc/mr tiles of a packed A
 * block (64 KiB, L2). Integer operands of ≤ 16 bits go as k pairs (i32x4.dot_i16x8_s, see
 * lower/gemm/gemm.ts). Measured with bench/gemm-compare.ts: 5×8, 6×8 (V8 spills), 4×12, kc 128
 * or 512, mc 128, nc 256 or 1024 were slower or within noise, and unroll 2 or 4 was 10–30 % slower.
 */
export const WASM_GEMM_SCHEDULE: GemmSchedule = Object.freeze({ mr: 4, nr: 8, kc: 256, mc: 64, nc: 512, pack: true, accumulator: "f32", vector: 4 });

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
  if (schedule.accumulator !== "f32" && schedule.accumulator !== "f64")
    throw new Error(`GEMM schedule: accumulator must be "f32" or "f64", got ${JSON.stringify(schedule.accumulator)}`);
  const vector = schedule.vector ?? 1;
  if (vector !== 1 && vector !== 4) throw new Error(`GEMM schedule: vector must be 1 or 4, got ${JSON.stringify(schedule.vector)}`);
  if (vector > 1) {
    if (schedule.nr % vector !== 0) throw new Error(`GEMM schedule: with vector ${vector}, nr (${schedule.nr}) must be a multiple of ${vector}`);
    if (!schedule.pack) throw new Error(`GEMM schedule: vector ${vector} needs pack: true (the vector micro-kernel reads packed panels)`);
  }
  const unroll = schedule.unroll ?? 1;
  if (![1, 2, 4, 8].includes(unroll)) throw new Error(`GEMM schedule: unroll must be 1, 2, 4 or 8, got ${JSON.stringify(schedule.unroll)}`);
  if (unroll > 1) {
    if (!schedule.pack) throw new Error(`GEMM schedule: unroll ${unroll} needs pack: true (the packed panels' depth is padded with zeros)`);
    if (schedule.kc % unroll !== 0) throw new Error(`GEMM schedule: kc (${schedule.kc}) must be a multiple of unroll (${unroll})`);
  }
  return schedule;
}
