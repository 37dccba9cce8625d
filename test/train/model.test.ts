/**
 * The shared model parts (src/train/model.ts) on in-memory prepared data and a hand-made split, no
 * dataset on disk: the class-weighted loss against a plain loop for every task, seeded weights,
 * seeded class-balanced batches, and no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { classWeights } from "../../src/losses/class_weights";
import { Rng } from "../../src/rng";
import { weightsSha256 } from "../../src/train/checkpoint";
import { type RunConfig, resolveConfig } from "../../src/train/config";
import type { Batch, Learner } from "../../src/train/learner";
import { buildRunModel, type PreparedData, type RunModel } from "../../src/train/model";
import type { TaskSplit } from "../../src/train/tasks/index";

const S = 8;
const N = 16;
const TEXT_DIM = 16;
// training rows 0..11, long-tailed and interleaved: class 0 ×6, class 1 ×4, class 2 ×2; rows 12..15 validate
const TRAIN_CLASSES = [0, 1, 0, 2, 0, 1, 0, 1, 0, 2, 0, 1];
const COUNTS = [6, 4, 2];

/** n × S × S × 3 random bytes and n × 16 random n-gram-like features (or token ids for a transformer text encoder). */
function preparedData(cfg: RunConfig, seed = 1): PreparedData {
  const r = new Rng(seed);
  const images = Uint8Array.from({ length: N * S * S * 3 }, () => r.int(256));
  const t = cfg.model.text;
  if (t.encoder === "transformer") {
    const text = Int32Array.from({ length: N * t.max_len }, (_, i) => (i % t.max_len < 4 ? 1 + r.int(t.vocab - 1) : 0));
    return { n: N, ids: Array.from({ length: N }, (_, i) => `p${i}`), imageSize: S, images, text, textDim: t.max_len };
  }
  const text = Float32Array.from({ length: N * TEXT_DIM }, () => (r.int(4) === 0 ? 1 : 0));
  return { n: N, ids: Array.from({ length: N }, (_, i) => `p${i}`), imageSize: S, images, text, textDim: TEXT_DIM };
}

function handSplit(): TaskSplit {
  const classOf = new Int32Array(N).fill(-1);
  TRAIN_CLASSES.forEach((c, i) => {
    classOf[i] = c;
  });
  return {
    train: Int32Array.from(TRAIN_CLASSES.keys()),
    valid: Int32Array.from([12, 13, 14, 15]),
    labels: Int32Array.from({ length: N }, (_, i) => (i < 12 ? TRAIN_CLASSES[i]! : 3)),
    classOf,
    numClasses: 3,
    classNames: ["a", "b", "c"],
  };
}

/** A tiny config: one ResNet stage of width 4, 16-d text, 8-d embeddings, a softmax head on the fused branch, inverse class weights. */
function tinyConfig(task: "match" | "classify", over: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    task,
    seed: 5,
    backend: "cpu",
    data: { image_size: S, folds: 2 },
    model: { image: { widths: [4] }, text: { dim: TEXT_DIM }, fusion: { width: 8, heads: 2 }, embedding_dim: 8, dropout: 0 },
    heads: { fused: { kind: "softmax" } },
    loss: { class_weights: "inverse", label_smoothing: 0, triplet_weight: 0 },
    optim: { batch_size: 4 },
    eval: { batch_size: 5 },
    ...over,
  });
}

// forward() reads only the learner's micro-step (the dropout seed)
const learner = { microStep: 0 } as unknown as Learner;
const allTrain = Int32Array.from(TRAIN_CLASSES.keys());

function disposeBatch(b: Batch): void {
  tf.dispose([...b.inputs, b.labels]);
}

/** The loss forward() computes on one batch, and the same loss by a plain loop over the fused head's logits. */
async function lossAndLoop(model: RunModel): Promise<{ forward: number; loop: number; unweighted: number }> {
  const batch = await model.source.makeBatch(allTrain, 0);
  const labels = Array.from(batch.labels.dataSync());
  const logitsT = tf.tidy(() => {
    const outs = model.net.model.apply(batch.inputs, { training: true }) as tf.Tensor | tf.Tensor[];
    const emb = (Array.isArray(outs) ? outs : [outs])[model.net.branches.indexOf("fused")]!;
    return model.heads.fused!.apply(emb) as tf.Tensor;
  });
  const logits = logitsT.dataSync();
  logitsT.dispose();
  const forward = tf.tidy(() => model.forward(batch, learner).loss).dataSync()[0]!;
  disposeBatch(batch);
  const C = 3;
  let num = 0;
  let den = 0;
  let plain = 0;
  labels.forEach((y, i) => {
    const z = Array.from(logits.subarray(i * C, (i + 1) * C));
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    const l = lse - z[y]!; // softmax cross-entropy
    const w = 1 / COUNTS[y]!; // inverse class weight
    num += w * l;
    den += w;
    plain += l;
  });
  return { forward, loop: num / den, unweighted: plain / labels.length };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("buildRunModel: the class-weighted loss", () => {
  it("is Σ w_y·l / Σ w_y over the batch (1e-5 relative to a plain loop), the same for match and classify", async () => {
    const got: number[] = [];
    for (const task of ["match", "classify"] as const) {
      const model = buildRunModel(tinyConfig(task), preparedData(tinyConfig(task)), handSplit());
      // the weights are 1/n up to a common scale (the scale cancels in the weighted mean)
      const w = Array.from(model.classWeights);
      COUNTS.forEach((n, c) => {
        expect((w[c]! * n) / (w[0]! * COUNTS[0]!)).toBeCloseTo(1, 12);
      });
      const r = await lossAndLoop(model);
      model.dispose();
      expect(Math.abs(r.forward - r.loop) / r.loop).toBeLessThan(1e-5);
      // the weighting matters on this batch: the plain mean is measurably different
      expect(Math.abs(r.unweighted - r.loop) / r.loop).toBeGreaterThan(1e-3);
      got.push(r.forward);
    }
    // one forward pass for every task: same seed, data and split → the same loss
    expect(got[0]).toBe(got[1]);
  });

  it("takes the class weights from the training rows' counts", () => {
    const cfg = tinyConfig("classify", { loss: { class_weights: "effective_number", class_weight_beta: 0.9 } });
    const model = buildRunModel(cfg, preparedData(cfg), handSplit());
    expect(Array.from(model.classWeights)).toEqual(Array.from(classWeights(COUNTS, "effective_number", { beta: 0.9 })));
    model.dispose();
    const none = buildRunModel(tinyConfig("classify", { loss: { class_weights: "none" } }), preparedData(cfg), handSplit());
    expect(Array.from(none.classWeights)).toEqual([1, 1, 1]);
    none.dispose();
  });
});

describe("buildRunModel: seeds", () => {
  it("builds identical weights for the same seed, different ones for another seed", () => {
    const hash = (cfg: RunConfig) => {
      const m = buildRunModel(cfg, preparedData(cfg), handSplit());
      const h = weightsSha256(m.stateVariables());
      m.dispose();
      return h;
    };
    const a = hash(tinyConfig("classify"));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(tinyConfig("classify"))).toBe(a);
    expect(hash(tinyConfig("match"))).toBe(a); // the task does not change the model
    expect(hash(tinyConfig("classify", { seed: 6 }))).not.toBe(a);
  });

  it("class-balanced sampling draws the same training rows for the same (seed, epoch)", async () => {
    const rowsOf = async (cfg: RunConfig, epoch: number) => {
      const m = buildRunModel(cfg, preparedData(cfg), handSplit());
      expect(m.source.size).toBe(12);
      const b = await m.source.makeBatch(allTrain, epoch);
      const rows = Array.from(b.indices);
      expect(Array.from(b.labels.dataSync())).toEqual(rows.map((r) => TRAIN_CLASSES[r]!));
      disposeBatch(b);
      m.dispose();
      return rows;
    };
    const balanced = (seed: number) => tinyConfig("classify", { seed, data: { image_size: S, folds: 2, sampling: "class_balanced", sampling_alpha: 0 } });
    const e3 = await rowsOf(balanced(5), 3);
    expect(e3.every((r) => r >= 0 && r < 12)).toBe(true);
    expect(await rowsOf(balanced(5), 3)).toEqual(e3);
    expect(await rowsOf(balanced(5), 4)).not.toEqual(e3);
    expect(await rowsOf(balanced(6), 3)).not.toEqual(e3);
    // natural sampling: position p is training row train[p], every epoch
    expect(await rowsOf(tinyConfig("classify"), 3)).toEqual(Array.from(allTrain));
  });
});

describe("buildRunModel: tensors", () => {
  const variants: [string, Record<string, unknown>][] = [
    ["concat fusion, n-gram text", {}],
    ["transformer fusion over text tokens", { model: { image: { widths: [4] }, text: { encoder: "transformer", vocab: 32, max_len: 6, width: 8, heads: 2 }, fusion: { kind: "transformer", width: 8, heads: 2 }, embedding_dim: 8 } }],
  ];
  for (const [what, over] of variants) {
    it(`leaks none through build, forward, embed, predict and dispose (${what})`, async () => {
      const cfg = tinyConfig("match", { ...over, heads: { fused: { kind: "arcface" }, text: { kind: "softmax" } }, loss: { class_weights: "inverse", triplet_weight: 0.5 } });
      const data = preparedData(cfg);
      const before = tf.memory().numTensors;
      const model = buildRunModel(cfg, data, handSplit());
      const batch = await model.source.makeBatch(Int32Array.from([0, 1, 2, 3, 4, 5]), 0);
      const loss = tf.tidy(() => model.forward(batch, learner).loss);
      expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
      loss.dispose();
      disposeBatch(batch);
      const rows = Int32Array.from({ length: N }, (_, i) => i);
      const emb = model.embed(rows);
      expect(emb.length).toBe(N * 8);
      for (let i = 0; i < N; i++) expect(Math.hypot(...emb.subarray(i * 8, (i + 1) * 8))).toBeCloseTo(1, 5);
      expect(model.embed(rows, "text").length).toBe(N * 8);
      expect(() => model.embed(rows, "nope" as never)).toThrow(/has no nope branch/);
      const probs = model.predict(rows);
      expect(probs.length).toBe(N * 3);
      for (let i = 0; i < N; i++) expect(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]!).toBeCloseTo(1, 5);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("rejects a head on a branch the model lacks, naming the branches, and frees what it built", () => {
    const cfg = tinyConfig("classify", { model: { image: { encoder: "none" }, text: { dim: TEXT_DIM }, fusion: { kind: "none" }, embedding_dim: 8 }, heads: { image: { kind: "softmax" } } });
    const data = { ...preparedData(cfg), images: new Uint8Array(0) };
    const before = tf.memory().numTensors;
    expect(() => buildRunModel(cfg, data, handSplit())).toThrow(/heads\.image: the model has no image branch \(it has text\)/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("buildRunModel: the bag text encoder", () => {
  it("trains on hashed sub-word pieces: loss falls, weights move, deterministic under a seed", async () => {
    const { makeLearner } = await import("../../src/train/run");
    const { tinyConfig, tinyTask } = await import("./fixture");
    const run = async () => {
      const cfg = tinyConfig({
        model: { image: { encoder: "none" }, text: { encoder: "bag", vocab: 512, max_len: 24, width: 8 }, fusion: { kind: "none" }, embedding_dim: 8 },
        heads: { text: { kind: "arcface", s: 10, m: 0.2 } },
        optim: { batch_size: 4, epochs: 4, lr: 0.02 },
        train: { log_period: 0, ckpt_period: 0 },
        eval: { batch_size: 16, branch: "text" },
      });
      const task = tinyTask(cfg);
      const losses: number[] = [];
      const l = makeLearner(task, cfg, { progressBars: false, log: () => {}, callbacks: [{ afterBatch: (x) => void losses.push(x.loss) }] });
      const before = tf.memory().numTensors;
      await l.fit();
      expect(tf.memory().numTensors).toBe(before);
      const sha = weightsSha256(task.stateVariables());
      task.dispose();
      return { losses, sha };
    };
    const a = await run();
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const q = Math.floor(a.losses.length / 4);
    expect(mean(a.losses.slice(-q))).toBeLessThan(mean(a.losses.slice(0, q)));
    expect((await run()).sha).toBe(a.sha);
  }, 120_000);
});
