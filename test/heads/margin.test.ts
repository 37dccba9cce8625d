import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type ArcFaceHead, marginAt } from "../../src/heads/index";
import { type Callback, makeLearner, plannedSteps, weightsSha256 } from "../../src/train/index";
import { tinyConfig, tinyTask } from "../train/fixture";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("margin schedules", () => {
  it("ramp linearly from m_start to m over the warm-up fraction, then hold (against a plain loop)", () => {
    const s = { m: 0.8, mStart: 0.2, warmup: 0.25 };
    for (let step = 0; step <= 120; step++) {
      const want = step >= 25 ? 0.8 : 0.2 + (0.6 * step) / 25;
      expect(marginAt(s, step, 100)).toBeCloseTo(want, 12);
    }
    expect(marginAt({ m: 0.5, mStart: 0.1, warmup: 0 }, 0, 100)).toBe(0.5);
  });

  it("plannedSteps counts the optimizer steps a learner takes (accumulation flushed at each epoch end)", async () => {
    const cfg = tinyConfig({ optim: { batch_size: 4, epochs: 2, lr: 0.01 }, train: { log_period: 0, gradient_accumulation_steps: 2, ckpt_period: 0 } });
    const task = tinyTask(cfg);
    let steps = 0;
    const count: Callback = {
      afterStep() {
        steps++;
      },
    };
    const l = makeLearner(task, cfg, { progressBars: false, log: () => {}, callbacks: [count] });
    await l.fit();
    expect(steps).toBe(l.totalSteps);
    expect(l.totalSteps).toBe(plannedSteps({ rows: task.source.size, batchSize: 4, accumulation: 2, epochs: 2, maxSteps: 0 }));
    task.dispose();
  }, 60_000);

  it("the head's margin follows the schedule in training, and a run is deterministic", async () => {
    const heads = { fused: { kind: "arcface", s: 10, m: 0.6, m_start: 0.1, m_warmup: 0.5 } };
    const run = async () => {
      const cfg = tinyConfig({ heads, optim: { batch_size: 4, epochs: 2, lr: 0.01 }, train: { log_period: 0, ckpt_period: 0 } });
      const task = tinyTask(cfg);
      const head = task.heads.fused as ArcFaceHead;
      const seen: [number, number][] = [];
      const spy: Callback = {
        beforeStep(l) {
          seen.push([l.step, head.m]);
        },
      };
      const l = makeLearner(task, cfg, { progressBars: false, log: () => {}, callbacks: [spy] });
      const before = tf.memory().numTensors;
      await l.fit();
      expect(tf.memory().numTensors).toBe(before);
      const sha = weightsSha256(task.stateVariables());
      task.dispose();
      return { seen, total: l.totalSteps, sha };
    };
    const a = await run();
    expect(a.seen.length).toBeGreaterThan(2);
    for (const [step, m] of a.seen) expect(m).toBeCloseTo(marginAt({ m: 0.6, mStart: 0.1, warmup: 0.5 }, step, a.total), 12);
    expect(a.seen[0]![1]).toBeCloseTo(0.1, 12);
    expect(a.seen.at(-1)![1]).toBeCloseTo(0.6, 12);
    expect((await run()).sha).toBe(a.sha);
  }, 120_000);
});
