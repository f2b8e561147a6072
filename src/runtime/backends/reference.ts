/**
 * Reference backend: a plain-JS GEMM, packed and register-tiled (GotoBLAS loop order,
 * 4×4 micro-tile of double accumulators). A is always packed into float64 panels; B is packed
 * too unless m is small (≤ 16 rows, or ≤ 32 with B transposed), where it is read in place.
 * Sums are accumulated in double and rounded once when stored, for either dtype. A float32 GEMM
 * with a declared accumulator is computed by its definition (dsl/semantics/accumulate.ts).
 */
import { checkGemm, type Backend, type GemmParams } from "../backend.ts";
import type { FloatArray } from "../tensor.ts";
import { gemmAccumulate } from "../../dsl/semantics/accumulate.ts";
import { checkDeclaredDepth, declaredAccumulator } from "./accumulators.ts";

const MR = 4;
const NR = 4;
/** Depth of a packed panel: 2 panels of KC×4 doubles (16 KiB) stay in L1. */
const KC = 256;
/** Rows of A packed at once (MC×KC doubles = 128 KiB, in L2). */
const MC = 64;
/** Columns of B packed at once (NC×KC doubles = 1 MiB). */
const NC = 512;

/** Options of the reference backend. */
export interface ReferenceBackendOptions {
  /** Validate operand lengths and dtypes on every call (cheap; on by default). */
  readonly check?: boolean;
}

/** A reference backend; its packing buffers belong to the instance, so instances are independent. */
export function createReferenceBackend(options: ReferenceBackendOptions = {}): Backend {
  const check = options.check ?? true;
  let packedA = new Float64Array(MC * KC);
  let packedB = new Float64Array(NC * KC);
  const edge = new Float64Array(MR * NR);

  function gemm<T extends FloatArray>(p: GemmParams<T>): void {
    if (check) checkGemm(p);
    const declared = declaredAccumulator(p);
    if (declared !== null) {
      // The definition itself (slow, exact): what the generated kernels are tested against.
      checkDeclaredDepth(p.k);
      p.c.set(gemmAccumulate(declared, p).subarray(0, p.m * p.n));
      return;
    }
    const { a, b, c, m, n, k, transA, transB, alpha, beta } = p;
    if (m === 0 || n === 0) return;
    if (k === 0 || alpha === 0) {
      scale(c, m * n, beta);
      return;
    }
    if (m <= 4 * MR || (transB && m <= 8 * MR)) {
      // Few row panels reuse each B panel, so packing B costs more than it saves.
      const need = roundUp(m, MR) * k;
      if (packedA.length < need) packedA = new Float64Array(need);
      packA(a, transA, m, k, 0, m, 0, k, packedA);
      directB(packedA, b, transB ? 1 : n, transB ? k : 1, c, m, n, k, alpha, beta, edge);
      return;
    }
    const kcMax = Math.min(k, KC);
    const needA = roundUp(Math.min(m, MC), MR) * kcMax;
    const needB = roundUp(Math.min(n, NC), NR) * kcMax;
    if (packedA.length < needA) packedA = new Float64Array(needA);
    if (packedB.length < needB) packedB = new Float64Array(needB);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        packB(b, transB, n, k, j0, nc, p0, kc, packedB);
        // Later depth blocks accumulate onto the first one's result.
        const betaBlock = p0 === 0 ? beta : 1;
        for (let i0 = 0; i0 < m; i0 += MC) {
          const mc = Math.min(MC, m - i0);
          packA(a, transA, m, k, i0, mc, p0, kc, packedA);
          macroKernel(packedA, packedB, c, n, j0, nc, i0, mc, kc, alpha, betaBlock, edge);
        }
      }
    }
  }

  return { name: "reference", gemm };
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

function scale(c: FloatArray, len: number, beta: number): void {
  if (beta === 0) c.fill(0, 0, len);
  else if (beta !== 1) for (let i = 0; i < len; i++) c[i] *= beta;
}

/** op(A) rows i0..i0+mc, depth p0..p0+kc → panels of MR rows, depth-major, zero-padded. */
function packA(a: FloatArray, transA: boolean, m: number, k: number, i0: number, mc: number, p0: number, kc: number, out: Float64Array): void {
  let o = 0;
  const iEnd = i0 + mc;
  for (let ib = i0; ib < iEnd; ib += MR) {
    const rows = Math.min(MR, iEnd - ib);
    if (transA) {
      // A stored k×m: op(A)[i][p] = a[p*m + i]
      for (let p = p0; p < p0 + kc; p++) {
        const base = p * m + ib;
        for (let r = 0; r < MR; r++) out[o++] = r < rows ? a[base + r] : 0;
      }
    } else {
      for (let p = p0; p < p0 + kc; p++) {
        let idx = ib * k + p;
        for (let r = 0; r < MR; r++, idx += k) out[o++] = r < rows ? a[idx] : 0;
      }
    }
  }
}

/** op(B) columns j0..j0+nc, depth p0..p0+kc → panels of NR columns, depth-major, zero-padded. */
function packB(b: FloatArray, transB: boolean, n: number, k: number, j0: number, nc: number, p0: number, kc: number, out: Float64Array): void {
  let o = 0;
  const jEnd = j0 + nc;
  for (let jb = j0; jb < jEnd; jb += NR) {
    const cols = Math.min(NR, jEnd - jb);
    if (transB) {
      // B stored n×k: op(B)[p][j] = b[j*k + p]
      for (let p = p0; p < p0 + kc; p++) {
        let idx = jb * k + p;
        for (let s = 0; s < NR; s++, idx += k) out[o++] = s < cols ? b[idx] : 0;
      }
    } else {
      for (let p = p0; p < p0 + kc; p++) {
        const base = p * n + jb;
        for (let s = 0; s < NR; s++) out[o++] = s < cols ? b[base + s] : 0;
      }
    }
  }
}

/** C[i0.., j0..] = alpha·Apanel·Bpanel + beta·C over one (mc × nc × kc) block. */
function macroKernel(
  ap: Float64Array, bp: Float64Array, c: FloatArray, ldc: number,
  j0: number, nc: number, i0: number, mc: number, kc: number,
  alpha: number, beta: number, edge: Float64Array,
): void {
  const iEnd = i0 + mc;
  for (let jb = 0; jb < nc; jb += NR) {
    const bOff = (jb / NR) * kc * NR;
    for (let ib = i0; ib < iEnd; ib += MR) {
      let ao = ((ib - i0) / MR) * kc * MR;
      let bo = bOff;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < kc; p++) {
        const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
        let x = ap[ao];
        c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
        x = ap[ao + 1];
        c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
        x = ap[ao + 2];
        c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
        x = ap[ao + 3];
        c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
        ao += MR;
        bo += NR;
      }
      const rows = Math.min(MR, iEnd - ib);
      const cols = Math.min(NR, nc - jb);
      let o = ib * ldc + j0 + jb;
      if (rows === MR && cols === NR) {
        if (beta === 0) {
          c[o] = alpha * c00; c[o + 1] = alpha * c01; c[o + 2] = alpha * c02; c[o + 3] = alpha * c03; o += ldc;
          c[o] = alpha * c10; c[o + 1] = alpha * c11; c[o + 2] = alpha * c12; c[o + 3] = alpha * c13; o += ldc;
          c[o] = alpha * c20; c[o + 1] = alpha * c21; c[o + 2] = alpha * c22; c[o + 3] = alpha * c23; o += ldc;
          c[o] = alpha * c30; c[o + 1] = alpha * c31; c[o + 2] = alpha * c32; c[o + 3] = alpha * c33;
        } else {
          c[o] = alpha * c00 + beta * c[o]; c[o + 1] = alpha * c01 + beta * c[o + 1];
          c[o + 2] = alpha * c02 + beta * c[o + 2]; c[o + 3] = alpha * c03 + beta * c[o + 3]; o += ldc;
          c[o] = alpha * c10 + beta * c[o]; c[o + 1] = alpha * c11 + beta * c[o + 1];
          c[o + 2] = alpha * c12 + beta * c[o + 2]; c[o + 3] = alpha * c13 + beta * c[o + 3]; o += ldc;
          c[o] = alpha * c20 + beta * c[o]; c[o + 1] = alpha * c21 + beta * c[o + 1];
          c[o + 2] = alpha * c22 + beta * c[o + 2]; c[o + 3] = alpha * c23 + beta * c[o + 3]; o += ldc;
          c[o] = alpha * c30 + beta * c[o]; c[o + 1] = alpha * c31 + beta * c[o + 1];
          c[o + 2] = alpha * c32 + beta * c[o + 2]; c[o + 3] = alpha * c33 + beta * c[o + 3];
        }
      } else {
        edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03;
        edge[4] = c10; edge[5] = c11; edge[6] = c12; edge[7] = c13;
        edge[8] = c20; edge[9] = c21; edge[10] = c22; edge[11] = c23;
        edge[12] = c30; edge[13] = c31; edge[14] = c32; edge[15] = c33;
        for (let r = 0; r < rows; r++, o += ldc) {
          for (let s = 0; s < cols; s++) {
            const v = alpha * edge[r * NR + s];
            c[o + s] = beta === 0 ? v : v + beta * c[o + s];
          }
        }
      }
    }
  }
}

/** Small m: B is read in place (strides sp along depth, sj along columns); only A is packed. */
function directB(
  ap: Float64Array, b: FloatArray, sp: number, sj: number, c: FloatArray, m: number, n: number, k: number,
  alpha: number, beta: number, edge: Float64Array,
): void {
  for (let jb = 0; jb < n; jb += NR) {
    const cols = Math.min(NR, n - jb);
    // Columns past n read column jb again (kept in range) and are never stored.
    const j1 = cols > 1 ? sj : 0, j2 = cols > 2 ? 2 * sj : 0, j3 = cols > 3 ? 3 * sj : 0;
    for (let ib = 0; ib < m; ib += MR) {
      let ao = (ib / MR) * k * MR;
      let bo = jb * sj;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const b0 = b[bo], b1 = b[bo + j1], b2 = b[bo + j2], b3 = b[bo + j3];
        let x = ap[ao];
        c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
        x = ap[ao + 1];
        c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
        x = ap[ao + 2];
        c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
        x = ap[ao + 3];
        c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
        ao += MR;
        bo += sp;
      }
      edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03;
      edge[4] = c10; edge[5] = c11; edge[6] = c12; edge[7] = c13;
      edge[8] = c20; edge[9] = c21; edge[10] = c22; edge[11] = c23;
      edge[12] = c30; edge[13] = c31; edge[14] = c32; edge[15] = c33;
      const rows = Math.min(MR, m - ib);
      let o = ib * n + jb;
      for (let r = 0; r < rows; r++, o += n) {
        for (let s = 0; s < cols; s++) {
          const v = alpha * edge[r * NR + s];
          c[o + s] = beta === 0 ? v : v + beta * c[o + s];
        }
      }
    }
  }
}
