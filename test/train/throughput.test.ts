/**
 * throughputCallback: a batch's time runs from the previous batch's end (or the epoch's start) to its
 * own afterBatch, validations are timed apart, and the summary leaves out the warm-up batches.
 * Driven by the tiny learner with a fake clock that each event advances.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type Callback, makeLearner, throughputCallback } from "../../src/train/index";
import { tinyConfig, tinyTask } from "./fixture";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("throughputCallback", () => {
  it("times every batch and validation on the given clocks; summary(warmup) skips the first batches", async () => {
    const cfg = tinyConfig({ train: { ckpt_period: 0, log_period: 0, warmup_steps: 0, gradient_accumulation_steps: 1 }, optim: { batch_size: 4, epochs: 2, lr: 0.01 } });
    const task = tinyTask(cfg);
    let clock = 0;
    let cpu = 0;
    // every batch takes 10 ms (5 CPU ms), every validation 100 ms, the gap between epochs 1000 ms
    const ticker: Callback = {
      order: 50,
      beforeBatch() {
        clock += 10;
        cpu += 5;
      },
      beforeValidate() {
        clock += 1;
      },
      afterValidate() {
        clock += 100;
      },
      afterEpoch() {
        clock += 1000;
      },
    };
    const th = throughputCallback({ now: () => clock, cpuNow: () => cpu });
    const l = makeLearner(task, cfg, { progressBars: false, log: () => {}, callbacks: [ticker, th] });
    await l.fit();
    task.dispose();
    const perEpoch = Math.floor(task.split.train.length / 4);
    expect(th.stepMs).toEqual(Array(2 * perEpoch).fill(10));
    expect(th.stepCpuMs).toEqual(Array(2 * perEpoch).fill(5));
    expect(th.stepRows).toEqual(Array(2 * perEpoch).fill(4));
    expect(th.validMs).toEqual([100, 100]);
    const s = th.summary(3);
    expect(s).toEqual({ steps: 2 * perEpoch - 3, samples: (2 * perEpoch - 3) * 4, train_ms: (2 * perEpoch - 3) * 10, train_cpu_ms: (2 * perEpoch - 3) * 5, samples_per_s: 400, step_ms_median: 10, valid_ms: [100, 100] });
    expect(th.summary().steps).toBe(2 * perEpoch);
    expect(th.summary(1000)).toMatchObject({ steps: 0, samples: 0, samples_per_s: Number.NaN, step_ms_median: Number.NaN });
  });
});
