import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classWeights } from "../../src/losses/class_weights";
import { CLASSIFY_METRICS_COLUMNS, type ClassifierInputs, type TrainClassifierOptions, trainClassifier } from "../../src/imbalance/index";
import { Rng } from "../../src/rng";

// 3 classes, long-tailed (18/9/3 rows); class c has a colour channel and a token of its own
function fixture(withImages: boolean): ClassifierInputs {
  const labels = Int32Array.from([...Array(18).fill(0), ...Array(9).fill(1), ...Array(3).fill(2)]);
  const n = labels.length;
  const size = 8;
  const maxLen = 6;
  const r = new Rng(1);
  const img = new Uint8Array(n * size * size * 3);
  const tokens = new Int32Array(n * maxLen);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size * size; p++) for (let ch = 0; ch < 3; ch++) img[(i * size * size + p) * 3 + ch] = ch === labels[i] ? 200 + r.int(50) : r.int(60);
    tokens[i * maxLen] = 1;
    tokens[i * maxLen + 1] = 10 + labels[i]!;
    tokens[i * maxLen + 2] = 20 + r.int(5);
  }
  return {
    images: withImages ? { size, n, data: img } : null,
    tokens,
    maxLen,
    vocab: 32,
    labels,
    numClasses: 3,
  };
}
const all = Int32Array.from({ length: 30 }, (_, i) => i);
const tiny: TrainClassifierOptions = {
  imageWidths: [4, 8],
  width: 8,
  heads: 2,
  embeddingDim: 8,
  batchSize: 8,
  showProgress: false,
  seed: 3,
};
let dir = "";

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-classify-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("trainClassifier", () => {
  it("writes metrics.csv in the VQA notes' shape, one row per epoch, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const runDir = path.join(dir, "concat");
    const r = await trainClassifier(fixture(true), all, all, {
      ...tiny,
      epochs: 2,
      fusion: "concat",
      runDir,
    });
    expect(tf.memory().numTensors).toBe(before);
    const lines = readFileSync(path.join(runDir, "metrics.csv"), "utf8").trim().split("\n");
    expect(lines[0]!.split(",")).toEqual(CLASSIFY_METRICS_COLUMNS);
    expect(lines.length).toBe(3);
    expect(r.history.length).toBe(2);
    expect(existsSync(path.join(runDir, "summary.json"))).toBe(true);
    expect(r.steps).toBe(2 * Math.floor(30 / 8));
    expect(r.valProbs.length).toBe(30 * 3);
    for (const k of ["val_accuracy", "val_macro_f1", "train_top5", "train_micro_f1"]) expect(r.history[1]![k]).toBeGreaterThanOrEqual(0);
  });

  it("runs the cross-modal transformer fusion with focal loss, weights and class-balanced sampling", async () => {
    const before = tf.memory().numTensors;
    const r = await trainClassifier(fixture(true), all, all, {
      ...tiny,
      epochs: 1,
      fusion: "transformer",
      loss: "focal",
      weights: "effective_number",
      weightBeta: 0.9,
      sampling: "class_balanced",
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(r.trainCounts)).toEqual([18, 9, 3]);
    expect(Array.from(r.classWeights)).toEqual(Array.from(classWeights([18, 9, 3], "effective_number", { beta: 0.9 })));
    expect(Number.isFinite(r.val.loss)).toBe(true);
  });

  it("is deterministic under a seed, and learns a separable text task", async () => {
    const opts = {
      ...tiny,
      epochs: 12,
      lr: 0.02,
      weights: "inverse_sqrt" as const,
    };
    const a = await trainClassifier(fixture(false), all, all, opts);
    const b = await trainClassifier(fixture(false), all, all, opts);
    expect(a.history).toEqual(b.history);
    expect(a.val.accuracy).toBe(1);
    expect(a.history[a.history.length - 1]!.val_loss).toBeLessThan(a.history[0]!.val_loss);
  });

  it("rejects bad inputs and options, naming them", async () => {
    await expect(trainClassifier(fixture(false), all, all, { loss: "hinge" as never })).rejects.toThrow(/unknown loss: hinge \(expected cross_entropy\|focal\)/);
    await expect(trainClassifier(fixture(false), all, Int32Array.from([99]), tiny)).rejects.toThrow(/valid row 99/);
    await expect(trainClassifier(fixture(false), all, new Int32Array(0), tiny)).rejects.toThrow(/valid split is empty/);
    await expect(
      trainClassifier(fixture(false), all, all, {
        ...tiny,
        sampling: "over" as never,
      }),
    ).rejects.toThrow(/unknown sampling/);
  });
});
