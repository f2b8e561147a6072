/** im2row writes the transpose of im2col's column matrix, for every geometry the convolutions use (stride, padding, windows past the border). */
import { describe, expect, it } from "vitest";
import { convGeometry, im2col, im2row } from "../../src/runtime/ops/im2col.ts";

describe("im2row", () => {
  const cases: readonly (readonly [number, number, number, number, number, number, number])[] = [
    // n, c, h, w, kernel, stride, padding
    [2, 3, 7, 6, 3, 1, 1],
    [1, 2, 5, 5, 3, 2, 0],
    [3, 1, 4, 9, 2, 2, 1],
    [2, 4, 6, 6, 1, 1, 0],
    [1, 2, 3, 3, 5, 1, 2],
    [1, 1, 8, 5, 3, 3, 2],
  ];
  for (const [n, c, h, w, k, s, p] of cases) {
    it(`is im2col transposed: ${n}×${c}×${h}×${w}, ${k}×${k} window, stride ${s}, padding ${p}`, () => {
      const g = convGeometry("test", [n, c, h, w], k, k, s, p);
      const x = Float32Array.from({ length: n * c * h * w }, (_, i) => i + 1);
      const ckk = c * k * k;
      const cols = g.n * g.oh * g.ow;
      const colm = new Float32Array(ckk * cols);
      im2col(x, g, colm);
      // Non-zero garbage first: im2row must write every entry, padding zeros included.
      const rows = new Float32Array(cols * ckk).fill(-1);
      im2row(x, g, rows);
      const transposed = new Float32Array(cols * ckk);
      for (let r = 0; r < ckk; r++) for (let j = 0; j < cols; j++) transposed[j * ckk + r] = colm[r * cols + j];
      expect(Array.from(rows)).toEqual(Array.from(transposed));
      expect(rows.some((v) => v === 0), "some windows reach the padding").toBe(p > 0 || k > h);
    });
  }
});
