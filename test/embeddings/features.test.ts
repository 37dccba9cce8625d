import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { concatFeatures, type FeatureTable, featureBatchSource, labelIndex, readyEmbeddingBackend } from "../../src/embeddings/index";
import { Rng } from "../../src/rng";
import { weightsSha256 } from "../../src/train/checkpoint";
import { resolveConfig } from "../../src/train/config";
import { buildRunModel, type PreparedData } from "../../src/train/model";
import { makeLearner, runTask } from "../../src/train/run";
import type { TaskSplit } from "../../src/train/tasks/index";

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

/**
 * Trains the shared model with `model.input: features` on {@link table} through the one driver
 * (buildRunModel + runTask + makeLearner): block a as the image features, block b as the text
 * features, concat fusion, a softmax head on the fused branch, task classify (the table's labels).
 * Rows i % 5 = 0 validate. Frees the model and the optimiser; returns the mean loss per epoch,
 * validation metrics before and after training, and the weights hash.
 */
async function trainOnTable(seed = 3): Promise<{ losses: number[]; untrained: Record<string, number>; trained: Record<string, number>; sha: string }> {
  const t = table();
  const cfg = resolveConfig({
    task: "classify",
    seed,
    backend: "cpu",
    model: { input: "features", encoders: ["hf-image:a", "hf-text:b"], fusion: { kind: "concat" }, embedding_dim: 8, dropout: 0.1 },
    heads: { fused: { kind: "softmax" } },
    optim: { batch_size: 16, epochs: 15, lr: 0.02 },
    train: { log_period: 0 },
  });
  const data: PreparedData = { n: t.n, ids: t.ids, imageSize: 8, images: new Uint8Array(0), text: new Float32Array(0), textDim: 0, features: t, featureModalities: ["image", "text"] };
  const rows = Int32Array.from({ length: t.n }, (_, i) => i);
  const split: TaskSplit = {
    train: rows.filter((i) => i % 5 !== 0),
    valid: rows.filter((i) => i % 5 === 0),
    labels: t.labels,
    classOf: t.labels,
    numClasses: t.classes.length,
    classNames: t.classes,
  };
  const task = runTask(buildRunModel(cfg, data, split));
  const sums: number[] = [];
  const counts: number[] = [];
  const learner = makeLearner(task, cfg, {
    progressBars: false,
    log: () => {},
    callbacks: [
      {
        afterBatch(l) {
          sums[l.epoch] = (sums[l.epoch] ?? 0) + l.loss;
          counts[l.epoch] = (counts[l.epoch] ?? 0) + 1;
        },
      },
    ],
  });
  const untrained = await task.validate();
  await learner.fit();
  const trained = await task.validate();
  const sha = weightsSha256(task.stateVariables());
  learner.optimizer.dispose();
  task.dispose();
  return { losses: sums.map((s, e) => s / counts[e]!), untrained, trained, sha };
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

  it("a model.input: features run learns a separable table, deterministically, without leaking", async () => {
    await readyEmbeddingBackend();
    const before = tf.memory().numTensors;
    const a = await trainOnTable();
    // the mean training loss halves from the first epoch to the last, and validation beats the untrained model
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]! * 0.5);
    expect(a.trained.val_loss!).toBeLessThan(a.untrained.val_loss!);
    expect(a.trained.val_accuracy!).toBeGreaterThan(0.9);
    expect(a.trained.val_macro_f1!).toBeGreaterThan(a.untrained.val_macro_f1!);
    expect(tf.memory().numTensors).toBe(before);
    // the same seed gives the same losses, metrics and weights
    const b = await trainOnTable();
    expect(b.losses).toEqual(a.losses);
    expect(b.trained).toEqual(a.trained);
    expect(b.sha).toBe(a.sha);
    expect(tf.memory().numTensors).toBe(before);
  });
});
