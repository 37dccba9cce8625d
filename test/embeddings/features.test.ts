import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import {
  concatFeatures,
  type FeatureTable,
  featureBatchSource,
  featureHeadPredict,
  labelIndex,
  readyEmbeddingBackend,
  trainFeatureHead,
} from "../../src/embeddings/index";
import { Rng } from "../../src/rng";

function table(n = 60, classes = 3, seed = 1): FeatureTable {
  const r = new Rng(seed);
  const { codes, classes: names } = labelIndex(Array.from({ length: n }, (_, i) => `g${i % classes}`));
  const a = new Float32Array(n * 4);
  const b = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) a[i * 4 + j] = (j === codes[i] ? 3 : 0) + r.normal() * 0.3;
    for (let j = 0; j < 2; j++) b[i * 2 + j] = r.normal();
  }
  return {
    n,
    ids: Array.from({ length: n }, (_, i) => `p${i}`),
    labels: codes,
    classes: names,
    blocks: [
      { encoder: "a", vectors: a, dim: 4 },
      { encoder: "b", vectors: b, dim: 2 },
    ],
  };
}

describe("cached features as training data", () => {
  it("labelIndex codes in first-seen order", () => {
    expect(labelIndex(["x", "y", "x", "z"])).toEqual({
      codes: Int32Array.from([0, 1, 0, 2]),
      classes: ["x", "y", "z"],
    });
  });

  it("featureBatchSource gathers the right rows per block (and concatenated) like a naive loop", async () => {
    await readyEmbeddingBackend();
    const t = table();
    const src = featureBatchSource(t, {
      rows: Int32Array.from([5, 9, 11, 40]),
    });
    expect(src.size).toBe(4);
    const before = tf.memory().numTensors;
    const batch = src.makeBatch(Int32Array.from([3, 0]), 0);
    expect(Array.from(batch.indices)).toEqual([40, 5]);
    expect(Array.from(batch.inputs[0]!.dataSync())).toEqual([...t.blocks[0]!.vectors.subarray(160, 164), ...t.blocks[0]!.vectors.subarray(20, 24)]);
    expect(Array.from(batch.inputs[1]!.dataSync())).toEqual([...t.blocks[1]!.vectors.subarray(80, 82), ...t.blocks[1]!.vectors.subarray(10, 12)]);
    expect(Array.from(batch.labels.dataSync())).toEqual([t.labels[40], t.labels[5]]);
    tf.dispose([...batch.inputs, batch.labels]);
    expect(tf.memory().numTensors).toBe(before);
    const cat = featureBatchSource(t, { concat: true }).makeBatch(Int32Array.from([2]), 0);
    expect(Array.from(cat.inputs[0]!.dataSync())).toEqual(Array.from(concatFeatures(t, [2])));
    tf.dispose([...cat.inputs, cat.labels]);
    expect(() => src.makeBatch(Int32Array.from([4]), 0)).toThrow(/position 4 is outside 0..3/);
  });

  it("trainFeatureHead learns a separable table, deterministically, without leaking", async () => {
    await readyEmbeddingBackend();
    const t = table();
    const before = tf.memory().numTensors;
    const opts = { epochs: 15, hidden: 8, batchSize: 16, lr: 0.02, seed: 3, label: null };
    const a = await trainFeatureHead(t, opts);
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]! * 0.5);
    const logits = featureHeadPredict(a.head, t);
    let correct = 0;
    for (let i = 0; i < t.n; i++) {
      const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === t.labels[i]) correct++;
    }
    expect(correct / t.n).toBeGreaterThan(0.9);
    const b = await trainFeatureHead(t, opts);
    expect(b.losses).toEqual(a.losses);
    a.head.dispose();
    b.head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
