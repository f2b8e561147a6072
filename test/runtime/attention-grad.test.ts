import { describe, expect, it } from "vitest";
import { evalContext } from "../../src/runtime/context.ts";
import { attention } from "../../src/runtime/ops/attention.ts";
import { embedding } from "../../src/runtime/ops/embedding.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { backend, gradCheck, randParam } from "./gradcheck.ts";

/** Bound on max|analytic − numeric| / max|numeric| per input tensor (float64, h = 1e-5). */
const TOL = 1e-6;

describe("attention gradients match central finite differences (float64)", () => {
  const cases = [
    { name: "one head, no mask", heads: 1, tq: 3, tk: 4, mask: {} },
    { name: "two heads, key padding", heads: 2, tq: 3, tk: 4, mask: { keyPadding: [0, 0, 1, 1, 0, 0, 0, 1] } },
    { name: "four heads, causal", heads: 4, tq: 4, tk: 4, mask: { causal: true } },
    { name: "two heads, causal and key padding", heads: 2, tq: 4, tk: 4, mask: { causal: true, keyPadding: [0, 0, 0, 1, 0, 1, 1, 1] } },
  ];
  for (const c of cases) {
    it(`${c.name}: q, k and v`, () => {
      const q = randParam("q", [2, c.tq, 8], 1, 2);
      const k = randParam("k", [2, c.tk, 8], 2, 2);
      const v = randParam("v", [2, c.tk, 8], 3);
      const res = gradCheck((ctx) => attention(ctx, q, k, v, { heads: c.heads, site: "attn", ...c.mask }), [q, k, v]);
      expect(res.maxRelError).toBeLessThan(TOL);
    });
  }

  it("the same tensor as query, key and value (self-attention on one input) accumulates all three gradients", () => {
    const x = randParam("x", [2, 3, 6], 4, 2);
    expect(gradCheck((ctx) => attention(ctx, x, x, x, { heads: 3, site: "self", causal: true }), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("a query whose every key is padding outputs 0 and passes no gradient, without NaN", () => {
    const q = randParam("q", [2, 2, 4], 5);
    const k = randParam("k", [2, 3, 4], 6);
    const v = randParam("v", [2, 3, 4], 7);
    const keyPadding = [1, 1, 1, 0, 1, 0]; // batch row 0 has no real key
    const res = gradCheck((ctx) => attention(ctx, q, k, v, { heads: 2, site: "attn", keyPadding }), [q, k, v]);
    expect(res.maxRelError).toBeLessThan(TOL);
    const y = attention(evalContext(backend), q, k, v, { heads: 2, site: "attn", keyPadding });
    expect(Array.from(y.data.subarray(0, 8))).toEqual(new Array(8).fill(0));
    expect(y.data.every(Number.isFinite)).toBe(true);
    expect(Array.from(q.grad!.subarray(0, 8))).toEqual(new Array(8).fill(0));
  });

  it("embedding with repeated indices: the table gets the sum of its rows' gradients", () => {
    const table = randParam("table", [5, 3], 8);
    const indices = [1, 3, 1, 1, 0, 3];
    expect(gradCheck((ctx) => embedding(ctx, table, indices, "emb", [2, 3]), [table]).maxRelError).toBeLessThan(TOL);
  });

  it("cross-entropy with row weights (padding rows weight 0, label smoothing on)", () => {
    const logits = randParam("logits", [5, 4], 9, 3);
    const labels = [0, 3, 2, 0, 0];
    const rowWeights = [1, 1, 0, 1, 0];
    const res = gradCheck((ctx) => softmaxCrossEntropy(ctx, logits, labels, { labelSmoothing: 0.1, rowWeights }), [logits]);
    expect(res.maxRelError).toBeLessThan(TOL);
    for (const r of [2, 4]) expect(Array.from(logits.grad!.subarray(r * 4, r * 4 + 4))).toEqual([0, 0, 0, 0]);
  });
});
