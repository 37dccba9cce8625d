import { mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Callback,
  CancelFitError,
  earlyStoppingCallback,
  etaCallback,
  latestCheckpoint,
  Learner,
  loadCheckpoint,
  makeLearner,
  restoreLearner,
  SmoothedMeter,
  saveCheckpoint,
  stopOnNanCallback,
  weightsSha256,
} from "../../src/train/index";
import { AdamW } from "../../src/train/optimizer";
import { tinyConfig, tinyTask } from "./fixture";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("the learner on a tiny multimodal task", () => {
  it("runs the events in order and resumes exactly from a mid-epoch checkpoint", async () => {
    const cfg = tinyConfig();
    const dirA = mkdtempSync(path.join(os.tmpdir(), "mlA-"));
    const dirB = mkdtempSync(path.join(os.tmpdir(), "mlB-"));
    // uninterrupted
    const taskA = tinyTask(cfg);
    const events: string[] = [];
    const trace = Object.fromEntries(
      (["beforeFit", "beforeEpoch", "beforeBatch", "beforeStep", "afterStep", "afterBatch", "beforeValidate", "afterValidate", "afterEpoch", "afterFit"] as const).map((e) => [
        e,
        () => {
          events.push(e);
        },
      ]),
    );
    const a = makeLearner(taskA, cfg, { checkpointsDir: dirA, progressBars: false, log: () => {}, callbacks: [trace] });
    const before = tf.memory().numTensors;
    await a.fit();
    expect(tf.memory().numTensors).toBe(before);
    expect(events.slice(0, 6)).toEqual(["beforeFit", "beforeEpoch", "beforeBatch", "afterBatch", "beforeBatch", "beforeStep"]);
    expect(events.at(-1)).toBe("afterFit");
    expect(a.epoch).toBe(3);
    const shaA = weightsSha256(taskA.stateVariables());

    // interrupted after the first mid-epoch checkpoint past step 2, then resumed in a fresh model
    const taskB = tinyTask(cfg);
    let killedAt = -1;
    const killer = {
      order: 99,
      afterBatch(l: Learner) {
        if (l.stepped && l.step === 4) {
          killedAt = l.step;
          throw new CancelFitError("simulated kill");
        }
      },
    };
    const b = makeLearner(taskB, cfg, { checkpointsDir: dirB, progressBars: false, log: () => {}, callbacks: [killer] });
    await b.fit();
    expect(killedAt).toBe(4);
    const ck = latestCheckpoint(dirB)!;
    const rec = loadCheckpoint(ck);
    expect(rec.meta.position.batchInEpoch).toBeGreaterThan(0); // mid-epoch
    expect(rec.meta.position.batchInEpoch).toBeLessThan(b.batchesPerEpoch);
    const taskC = tinyTask(cfg);
    const c = makeLearner(taskC, cfg, { checkpointsDir: dirB, progressBars: false, log: () => {} });
    restoreLearner(c, rec, ck);
    expect(c.step).toBe(4);
    await c.fit();
    expect(c.step).toBe(a.step);
    expect(weightsSha256(taskC.stateVariables())).toBe(shaA);
    expect(readdirSync(dirB).some((f) => f.includes(".tmp-"))).toBe(false);
  }, 120_000);

  it("max steps stop mid-epoch; validation metrics are all present", async () => {
    const cfg = tinyConfig({ train: { max_iters: 3, log_period: 0 } });
    const task = tinyTask(cfg);
    const l = makeLearner(task, cfg, { progressBars: false });
    await l.fit();
    expect(l.step).toBe(3);
    expect(l.stopReason).toMatch(/max_iters \(3\) reached/);
    for (const k of ["val_f1", "val_distance_threshold", "val_loss", "val_accuracy", "val_top5", "val_macro_f1", "val_micro_f1"]) expect(Number.isFinite(l.metrics[k])).toBe(true);
  }, 60_000);
});

describe("the classify task on the same learner", () => {
  it("trains, scores macro F1 as its primary metric, and resumes exactly", async () => {
    const cfg = tinyConfig({ task: "classify", classify: { label: "kind" }, data: { image_size: 8, folds: 3, fold: 1, sampling: "class_balanced", sampling_alpha: 0.5 }, heads: { fused: { kind: "softmax" } }, loss: { class_weights: "inverse_sqrt" } });
    const dirA = mkdtempSync(path.join(os.tmpdir(), "mlcA-"));
    const dirB = mkdtempSync(path.join(os.tmpdir(), "mlcB-"));
    const taskA = tinyTask(cfg);
    expect(taskA.def.metric).toEqual({ name: "val_macro_f1", mode: "max" });
    const a = makeLearner(taskA, cfg, { checkpointsDir: dirA, progressBars: false, log: () => {} });
    await a.fit();
    for (const k of ["val_macro_f1", "val_accuracy", "val_top5", "val_loss"]) expect(Number.isFinite(a.metrics[k])).toBe(true);
    const taskB = tinyTask(cfg);
    const killer = { order: 99, afterBatch: (l: Learner) => { if (l.stepped && l.step === 3) throw new CancelFitError("simulated kill"); } };
    await makeLearner(taskB, cfg, { checkpointsDir: dirB, progressBars: false, log: () => {}, callbacks: [killer] }).fit();
    const ck = latestCheckpoint(dirB)!;
    const taskC = tinyTask(cfg);
    const c = makeLearner(taskC, cfg, { checkpointsDir: dirB, progressBars: false, log: () => {} });
    restoreLearner(c, loadCheckpoint(ck), ck);
    await c.fit();
    expect(weightsSha256(taskC.stateVariables())).toBe(weightsSha256(taskA.stateVariables()));
    for (const t of [taskA, taskB, taskC]) t.dispose();
  }, 120_000);
});

describe("other heads, losses and fusions train too", () => {
  it("cross-modal transformer + sub-center ArcFace + softmax text head + focal loss with class weights", async () => {
    const cfg = tinyConfig({
      model: { image: { widths: [4, 8] }, text: { encoder: "transformer", vocab: 64, max_len: 6, width: 8, heads: 2 }, fusion: { kind: "transformer", width: 8, heads: 2 }, embedding_dim: 8 },
      heads: { fused: { kind: "subcenter_arcface", k: 2, s: 10 }, text: { kind: "softmax", weight: 0.5 }, image: { kind: "cosface", s: 10 } },
      loss: { kind: "focal", gamma: 2, class_weights: "effective_number", class_weight_beta: 0.9, label_smoothing: 0.1 },
      optim: { batch_size: 4, epochs: 1, lr: 0.01, param_groups: [{ match: "^head_", lr: 0.05 }] },
      train: { max_iters: 3, log_period: 0 },
    });
    const task = tinyTask(cfg);
    const l = makeLearner(task, cfg, { progressBars: false, log: () => {} });
    expect(l.optimizer.lrs.some((lr) => lr === 0.05)).toBe(true);
    const before = weightsSha256(task.stateVariables());
    await l.fit();
    expect(l.step).toBe(3);
    expect(Number.isFinite(l.loss)).toBe(true);
    expect(weightsSha256(task.stateVariables())).not.toBe(before);
  }, 60_000);
});

describe("callbacks", () => {
  function toyLearner(losses: number[], callbacks: Callback[] = [], metrics: number[] = [], maxNonfiniteSteps?: number) {
    const w = tf.variable(tf.scalar(1));
    let i = 0;
    let v = 0;
    return new Learner({
      params: [{ name: "w", variable: w }],
      forward: () => ({ loss: tf.tidy(() => w.mul(0).add(losses[Math.min(i++, losses.length - 1)]!)) as tf.Scalar }),
      data: { size: 4, makeBatch: (rows) => ({ inputs: [], labels: tf.zeros([rows.length]), indices: rows }) },
      optimizer: new AdamW([{ name: "w", variable: w }]),
      batchSize: 2,
      epochs: 10,
      maxNonfiniteSteps,
      validate: async () => ({ val_f1: metrics[Math.min(v++, metrics.length - 1)] ?? 0 }),
      callbacks,
    });
  }

  it("stops on NaN (the callback, with the learner's own divergence stop off)", async () => {
    const l = toyLearner([1, 2, Number.NaN], [stopOnNanCallback()], [], 0);
    await l.fit();
    expect(l.stopReason).toMatch(/loss is NaN at step 2/); // the NaN step was skipped: 2 steps taken
  });

  it("by default a NaN loss ends fit with DivergedError before the step (test/train/divergence.test.ts has the rest)", async () => {
    const l = toyLearner([1, 2, Number.NaN], [stopOnNanCallback()]);
    await expect(l.fit()).rejects.toThrow(/^diverged: non-finite loss or gradient at step 3 \(epoch 2\)/);
  });

  it("early stopping with patience", async () => {
    const l = toyLearner([1], [earlyStoppingCallback({ patience: 2 })], [0.5, 0.6, 0.6, 0.55, 0.9]);
    await l.fit();
    expect(l.epoch).toBe(3);
    expect(l.stopReason).toMatch(/did not improve for 2 validations \(best 0.6\)/);
  });

  it("ETA from an injected clock", async () => {
    let now = 0;
    const eta = etaCallback({ now: () => now });
    const tick = {
      afterStep: () => {
        now += 1000;
      },
    };
    const l = toyLearner([1], [eta, tick]);
    let seen = Number.NaN;
    l.addCallback({
      order: 50,
      afterEpoch: (x) => {
        if (x.epoch === 0) seen = eta.remainingMs();
      },
    });
    await l.fit();
    expect(seen).toBe(18_000); // 2 of 20 steps done at 1 s/step
  });

  it("smoothed meter is debiased", () => {
    const m = new SmoothedMeter(0.9);
    m.add(2);
    expect(m.value).toBeCloseTo(2);
    m.add(4);
    expect(m.value).toBeCloseTo((0.9 * 0.1 * 2 + 0.1 * 4) / (1 - 0.81));
  });
});

describe("checkpoint files", () => {
  it("round-trip and are atomic", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlck-"));
    const f = path.join(dir, "x.ckpt");
    saveCheckpoint(f, {
      meta: { position: { epoch: 1, batchInEpoch: 2, step: 3, microStep: 4 }, seed: 5, config: { a: 1 }, metrics: { val_f1: 0.5 }, callbacks: {}, optimizerT: 3, weightsSha256: "x" },
      tensors: [
        { name: "w/a", shape: [3], dtype: "float32", data: Float32Array.from([1.5, -2, 3]) },
        { name: "w/b", shape: [1, 2], dtype: "int32", data: Int32Array.from([7, 8]) },
      ],
    });
    const r = loadCheckpoint(f);
    expect(r.meta.position.step).toBe(3);
    expect(Array.from(r.tensors[0]!.data)).toEqual([1.5, -2, 3]);
    expect(Array.from(r.tensors[1]!.data)).toEqual([7, 8]);
    expect(readdirSync(dir)).toEqual(["x.ckpt"]);
  });
});
