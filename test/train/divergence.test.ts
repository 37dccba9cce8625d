/**
 * Diverging runs: a non-finite loss or gradient norm is caught before the optimiser step, the step
 * is skipped, and after `maxNonfiniteSteps` such steps fit throws DivergedError (one line naming the
 * step, the loss and the learning rate); weights that became non-finite are caught before a
 * checkpoint is written, so the last good one stays. No tensor leaks on any of these paths.
 */
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type Callback, checkpointCallback, DivergedError, DivergenceGuard, finiteStep, finiteWeights, Learner, listCheckpoints, loadCheckpoint, NonFiniteOutputError } from "../../src/train/index";
import { AdamW } from "../../src/train/optimizer";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const at = (step: number) => ({ step, epoch: 0, loss: Number.NaN, gradNorm: 2.5, lr: 0.1 });

describe("DivergenceGuard: the skip/count logic", () => {
  it("stops at the first non-finite step by default, naming the step, the loss and the learning rate", () => {
    const g = new DivergenceGuard();
    let err: unknown;
    try {
      g.skip({ step: 7, epoch: 1, loss: Number.POSITIVE_INFINITY, gradNorm: Number.NaN, lr: 1e9 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DivergedError);
    const d = err as DivergedError;
    expect(d.message).toBe("diverged: non-finite loss or gradient at step 7 (epoch 2): loss Infinity, grad norm NaN, lr 1e+9; 1 non-finite step(s) skipped (train.max_nonfinite_steps: 1); lower optim.lr or set train.max_grad_norm");
    expect(d.message).not.toContain("\n");
    expect(d.info).toMatchObject({ step: 7, skipped: 1, limit: 1, what: "step" });
  });

  it("skips limit-1 steps and throws on the limit-th; 0 never throws", () => {
    const g = new DivergenceGuard(3);
    expect(g.skip(at(1))).toBe(1);
    expect(g.skip(at(4))).toBe(2);
    expect(() => g.skip(at(9))).toThrow(/at step 9 .*3 non-finite step\(s\) skipped \(train.max_nonfinite_steps: 3\)/);
    const never = new DivergenceGuard(0);
    for (let i = 1; i <= 50; i++) expect(never.skip(at(i))).toBe(i);
    expect(() => new DivergenceGuard(-1)).toThrow(/integer >= 0, got -1/);
    expect(() => new DivergenceGuard(1.5)).toThrow(/integer >= 0, got 1.5/);
  });

  it("finiteStep and finiteWeights", () => {
    expect(finiteStep(1, 2)).toBe(true);
    expect(finiteStep(Number.NaN, 2)).toBe(false);
    expect(finiteStep(1, Number.POSITIVE_INFINITY)).toBe(false);
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor2d([[1, -4]]));
    const before = tf.memory().numTensors;
    expect(finiteWeights([{ name: "a", variable: a }, { name: "b", variable: b }])).toBe(true);
    tf.tidy(() => b.assign(tf.tensor2d([[1, Number.NEGATIVE_INFINITY]])));
    expect(finiteWeights([{ name: "a", variable: a }, { name: "b", variable: b }])).toBe(false);
    tf.tidy(() => a.assign(tf.tensor1d([Number.NaN, 0, 0])));
    expect(finiteWeights([{ name: "a", variable: a }])).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

/** A one-weight learner whose micro-batch losses are `losses` in turn (NaN/Inf allowed); `badGrad` steps get a NaN gradient with a finite loss. */
function toy(losses: number[], opts: { limit?: number; badGradAt?: number[]; accumulation?: number; extra?: Callback[] } = {}) {
  const w = tf.variable(tf.scalar(1));
  let i = 0;
  const applied: number[] = [];
  const nanGrad = tf.customGrad((...args) => ({ value: (args[0] as tf.Tensor).mul(0), gradFunc: (dy: tf.Tensor) => dy.mul(Number.NaN) }));
  const l = new Learner({
    params: [{ name: "w", variable: w }],
    forward: () => {
      const k = i++;
      const v = losses[Math.min(k, losses.length - 1)]!;
      const term = (opts.badGradAt ?? []).includes(k) ? (nanGrad(w) as tf.Scalar) : w.mul(w).mul(0.5);
      return { loss: term.add(v) as tf.Scalar };
    },
    data: { size: 4, makeBatch: (rows) => ({ inputs: [], labels: tf.zeros([rows.length]), indices: rows }) },
    optimizer: new AdamW([{ name: "w", variable: w }], { lr: 0.1 }),
    batchSize: 1,
    epochs: 3,
    gradientAccumulationSteps: opts.accumulation ?? 1,
    maxNonfiniteSteps: opts.limit,
    callbacks: [{ afterStep: (x) => void applied.push(x.step) }, ...(opts.extra ?? [])],
  });
  return { l, w, applied };
}

describe("the Learner skips non-finite steps before the optimiser", () => {
  it("default: the first NaN loss stops fit with DivergedError; that step never reaches the weights; no tensor leaks", async () => {
    const { l, w, applied } = toy([1, 2, Number.NaN, 3]);
    const before = tf.memory().numTensors;
    let wBefore = Number.NaN;
    l.addCallback({
      beforeStep: () => {
        wBefore = w.dataSync()[0]!;
      },
    });
    const err = await l.fit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DivergedError);
    expect((err as Error).message).toMatch(/^diverged: non-finite loss or gradient at step 3 \(epoch 1\): loss NaN, grad norm \S+, lr 0\.1;/);
    expect(applied).toEqual([1, 2]);
    expect(l.step).toBe(2);
    expect(w.dataSync()[0]).toBe(wBefore); // the skipped step left the weight as it was
    expect(l.optimizer.t).toBe(2); // nor did it touch the optimiser's moments
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a NaN gradient with a finite loss is caught too", async () => {
    const { l, applied } = toy([1], { badGradAt: [1] });
    await expect(l.fit()).rejects.toThrow(/at step 2 \(epoch 1\): loss 1, grad norm NaN, lr 0\.1/);
    expect(applied).toEqual([1]);
  });

  it("with maxNonfiniteSteps 2 the first bad step is skipped and training goes on; the second stops it", async () => {
    const { l, applied } = toy([1, Number.NaN, 1, 1, Number.POSITIVE_INFINITY, 1], { limit: 2 });
    const before = tf.memory().numTensors;
    await expect(l.fit()).rejects.toThrow(/at step 4 \(epoch 2\): loss Infinity.*2 non-finite step\(s\) skipped/);
    expect(applied).toEqual([1, 2, 3]);
    expect(l.divergence.skipped).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("maxNonfiniteSteps 0 skips every bad step and trains to the end", async () => {
    const { l, applied } = toy([1, Number.NaN, 1, Number.NaN], { limit: 0 });
    await l.fit();
    expect(l.divergence.skipped).toBe(10); // 12 batches, only the 1st and 3rd finite
    expect(applied).toEqual([1, 2]);
    expect(l.stopReason).toBe("");
  });

  it("with accumulation, a NaN in any micro-batch of the step skips the whole step", async () => {
    const { l, applied } = toy([1, 1, Number.NaN, 1, 1, 1], { accumulation: 2 });
    await expect(l.fit()).rejects.toThrow(/at step 2 \(epoch 1\): loss NaN/);
    expect(applied).toEqual([1]);
  });

  it("weights that became non-finite are never checkpointed: the last good checkpoint stays", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ml-div-"));
    const breaker = {
      order: 10,
      afterStep: (x: Learner) => {
        if (x.step === 3) tf.tidy(() => x.params[0]!.variable.assign(tf.scalar(Number.POSITIVE_INFINITY)));
      },
    };
    const { l } = toy([1], { extra: [checkpointCallback({ dir, period: 1, keep: 10 }), breaker] });
    const before = tf.memory().numTensors;
    await expect(l.fit()).rejects.toThrow(/^diverged: the weights became non-finite after step 3 \(epoch 1\)/);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([1, 2]);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const ck = loadCheckpoint(path.join(dir, "step-2.ckpt"));
    expect(ck.tensors.every((t) => Array.from(t.data).every(Number.isFinite))).toBe(true);
    expect(existsSync(path.join(dir, "step-3.ckpt"))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("non-finite validation outputs end the run as diverged, not with an internal metrics error", async () => {
    const { l } = toy([1]);
    const l2 = new Learner({ ...l.opts, validate: async () => Promise.reject(new NonFiniteOutputError("validation embeddings (fused branch)")) });
    await expect(l2.fit()).rejects.toThrow(/^diverged: the model's validation outputs became non-finite after step 4 \(epoch 1\)/);
  });
});
