import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { evalContext, type Ctx } from "../../src/runtime/context.ts";
import { BOS, EOS, vocabulary } from "../../src/runtime/data/cmudict.ts";
import { g2pBatch } from "../../src/runtime/data/g2p-batch.ts";
import { greedyDecode } from "../../src/runtime/models/greedy-decode.ts";
import { createTransformer, type TransformerConfig } from "../../src/runtime/models/transformer.ts";
import { attention } from "../../src/runtime/ops/attention.ts";
import { Rng } from "../../src/runtime/random.ts";
import { teacherForcedLoss } from "../../src/runtime/tasks/transformer.ts";
import { Tensor } from "../../src/runtime/tensor.ts";
import { gradCheck } from "./gradcheck.ts";

const backend = createReferenceBackend();
const ctx: Ctx = evalContext(backend);
const tiny: Pick<TransformerConfig, "sourceVocab" | "targetVocab"> & Partial<TransformerConfig> = {
  sourceVocab: 9, targetVocab: 7, dModel: 8, heads: 2, ffnSize: 16, encoderLayers: 2, decoderLayers: 2, maxSourceLength: 6, maxTargetLength: 6, seed: 5,
};

function randomIds(n: number, vocab: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => 3 + rng.int(vocab - 3));
}

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Float32Array.from({ length: n }, () => rng.normal()));
}

const slice = (t: Tensor, from: number, to: number) => Array.from(t.data.subarray(from, to));

describe("masks really hide what they should (bit-identical outputs)", () => {
  it("attention op: changing the values and keys of padded positions leaves every output unchanged", () => {
    const q = randomTensor([2, 3, 8], 1);
    const k = randomTensor([2, 4, 8], 2);
    const v = randomTensor([2, 4, 8], 3);
    const keyPadding = [0, 0, 1, 1, 0, 1, 1, 1];
    const before = attention(ctx, q, k, v, { heads: 2, site: "a", keyPadding });
    for (const b of [0, 1]) {
      for (let j = 0; j < 4; j++) {
        if (keyPadding[b * 4 + j] === 0) continue;
        for (let c = 0; c < 8; c++) {
          k.data[(b * 4 + j) * 8 + c] = 100 * (c + 1);
          v.data[(b * 4 + j) * 8 + c] = -1e6;
        }
      }
    }
    expect(Array.from(attention(ctx, q, k, v, { heads: 2, site: "a", keyPadding }).data)).toEqual(Array.from(before.data));
    // The same change without the mask does change the outputs: the test can fail.
    expect(Array.from(attention(ctx, q, k, v, { heads: 2, site: "a" }).data)).not.toEqual(Array.from(before.data));
  });

  it("decoder: changing later target tokens leaves the hidden states of earlier positions unchanged", () => {
    const model = createTransformer(tiny);
    const [batch, s, t] = [2, 5, 6];
    const source = { ids: randomIds(batch * s, 9, 10), batch, length: s };
    const padding = new Uint8Array(batch * s);
    const memory = model.encode(ctx, source, padding);
    const ids = randomIds(batch * t, 7, 11);
    const before = model.decode(ctx, memory, padding, { ids, batch, length: t });
    const cut = 3;
    const changed = ids.slice();
    for (let b = 0; b < batch; b++) for (let i = cut; i < t; i++) changed[b * t + i] = 3 + ((changed[b * t + i] - 3 + 1) % 4);
    const after = model.decode(ctx, memory, padding, { ids: changed, batch, length: t });
    for (let b = 0; b < batch; b++) {
      const from = b * t * 8;
      expect(slice(after, from, from + cut * 8)).toEqual(slice(before, from, from + cut * 8));
      expect(slice(after, from + cut * 8, from + t * 8)).not.toEqual(slice(before, from + cut * 8, from + t * 8));
    }
  });

  it("encoder and decoder: the tokens at padded source positions do not matter", () => {
    const model = createTransformer(tiny);
    const letters = vocabulary(["A", "B", "C", "D", "E", "F"]);
    const phonemes = vocabulary(["X", "Y", "Z", "W"]);
    const batch = g2pBatch([{ word: "ABCDE", phonemes: ["X", "Y"] }, { word: "FA", phonemes: ["Z", "W", "X"] }], letters, phonemes);
    const run = (ids: Int32Array) => {
      const memory = model.encode(ctx, { ids, batch: 2, length: batch.sourceLength }, batch.sourcePadding);
      const hidden = model.decode(ctx, memory, batch.sourcePadding, { ids: batch.targetIn, batch: 2, length: batch.targetLength });
      return { memory, hidden };
    };
    const before = run(batch.source);
    const scrambled = batch.source.slice();
    for (let i = 0; i < scrambled.length; i++) if (batch.sourcePadding[i] === 1) scrambled[i] = 3 + (i % 6);
    const after = run(scrambled);
    const real = 2 * 8; // the second word's two letters
    expect(slice(after.memory, 0, 5 * 8)).toEqual(slice(before.memory, 0, 5 * 8));
    expect(slice(after.memory, 5 * 8, 5 * 8 + real)).toEqual(slice(before.memory, 5 * 8, 5 * 8 + real));
    expect(Array.from(after.hidden.data)).toEqual(Array.from(before.hidden.data));
  });
});

describe("the Transformer's gradients match finite differences (float64, whole model)", () => {
  for (const [positions, norm] of [["sinusoidal", "layer"], ["learned", "layer"], ["sinusoidal", "l1"]] as const) {
    it(`teacher-forced loss with padding, ${positions} positions, ${norm} norm`, () => {
      const model = createTransformer({ ...tiny, encoderLayers: 1, decoderLayers: 1, positions, norm, dtype: "float64" });
      const letters = vocabulary(["A", "B", "C", "D", "E", "F"]);
      const phonemes = vocabulary(["X", "Y", "Z", "W"]);
      const batch = g2pBatch([{ word: "ABCDE", phonemes: ["X", "Y"] }, { word: "FA", phonemes: ["Z", "W", "X", "X"] }], letters, phonemes);
      const params = model.parameters();
      const res = gradCheck((c) => teacherForcedLoss(c, model, batch, 0.1), params, { sample: 6 });
      expect(res.maxRelError).toBeLessThan(1e-5);
    });
  }
});

describe("the model's parameters and configuration", () => {
  it("names every parameter uniquely, with the embeddings, all sub-layers and the output projection", () => {
    const names = createTransformer({ ...tiny, positions: "learned" }).parameters().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining([
      "source.embedding", "source.positions", "target.embedding", "target.positions",
      "encoder.layer1.selfAttention.query.weight", "encoder.layer0.ffn.expand.bias", "encoder.norm.gamma",
      "decoder.layer1.crossAttention.output.weight", "decoder.layer0.crossAttention.norm.beta", "output.weight", "output.bias",
    ]));
    // 2 embeddings + 2 position tables; per encoder layer 2 norms (4) + attention (8) + FFN (4); decoder adds a norm and an attention; 2 final norms; output.
    expect(names.length).toBe(4 + 2 * 16 + 2 * 26 + 4 + 2);
  });

  it("the L1 norm replaces every layer norm: same parameters, different outputs", () => {
    const layer = createTransformer(tiny);
    const l1 = createTransformer({ ...tiny, norm: "l1" });
    expect(l1.parameters().map((p) => p.name)).toEqual(layer.parameters().map((p) => p.name));
    const source = { ids: [3, 4, 5], batch: 1, length: 3 };
    const a = layer.encode(ctx, source, [0, 0, 0]).data;
    const b = l1.encode(ctx, source, [0, 0, 0]).data;
    expect(b.every(Number.isFinite)).toBe(true);
    expect(Array.from(b)).not.toEqual(Array.from(a));
  });

  it("rejects a width the heads do not divide, an unknown norm, and sequences longer than the position tables", () => {
    expect(() => createTransformer({ ...tiny, heads: 3 })).toThrow(/3 heads do not divide dModel 8/);
    expect(() => createTransformer({ ...tiny, norm: "batch" as "layer" })).toThrow(/norm must be "layer" or "l1", got "batch"/);
    expect(() => createTransformer(tiny).encode(ctx, { ids: new Int32Array(7).fill(3), batch: 1, length: 7 }, new Uint8Array(7))).toThrow(/sequences of 7 exceed the maximum length 6/);
  });
});

describe("greedy decoding", () => {
  it("agrees with teacher forcing on its own output: each token is the argmax given the tokens before it, then EOS", () => {
    const model = createTransformer({ ...tiny, targetVocab: 7, seed: 9 });
    // Bias the output towards EOS a little so that some sequences stop early.
    model.parameters().find((p) => p.name === "output.bias")!.data[EOS] = 0.8;
    const [batch, s] = [6, 5];
    const source = { ids: randomIds(batch * s, 9, 20), batch, length: s };
    const padding = new Uint8Array(batch * s);
    for (const [b, n] of [[1, 2], [4, 1]]) padding.fill(1, b * s + s - n, (b + 1) * s);
    const outputs = greedyDecode(ctx, model, source, padding, { bos: BOS, eos: EOS });
    expect(outputs.some((o) => o.length < 5)).toBe(true);
    const memory = model.encode(ctx, source, padding);
    for (let b = 0; b < batch; b++) {
      const row = outputs[b];
      const ids = [BOS, ...row];
      const one = { ids: Int32Array.from(ids), batch: 1, length: ids.length };
      const rowMemory = new Tensor([1, s, 8], memory.data.slice(b * s * 8, (b + 1) * s * 8));
      const logits = model.project(ctx, model.decode(ctx, rowMemory, padding.subarray(b * s, (b + 1) * s), one)).data;
      const argmax = (t: number) => {
        let best = 0;
        for (let j = 1; j < 7; j++) if (logits[t * 7 + j] > logits[t * 7 + best]) best = j;
        return best;
      };
      for (let t = 0; t < row.length; t++) expect(argmax(t)).toBe(row[t]);
      if (row.length < 5) expect(argmax(row.length)).toBe(EOS);
      expect(row).not.toContain(EOS);
    }
  });

  it("refuses a context with a tape", () => {
    const model = createTransformer(tiny);
    const taped = { ...ctx, tape: { record() {} } } as unknown as Ctx;
    expect(() => greedyDecode(taped, model, { ids: [3], batch: 1, length: 1 }, [0], { bos: BOS, eos: EOS })).toThrow(/without a tape/);
  });
});
