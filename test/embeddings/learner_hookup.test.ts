// Cached features plugged into the training helper's loop: featureBatchSource → Learner (src/train)
// with AdamW, a projection + ArcFace head (src/heads) and a callback; no encoder runs.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { type FeatureTable, featureBatchSource, labelIndex, readyEmbeddingBackend } from "../../src/embeddings/index";
import { makeHead } from "../../src/heads/index";
import { Rng } from "../../src/rng";
import { type Batch, learner } from "../../src/train/learner";
import { adamW, type NamedParam } from "../../src/train/optimizer";

function table(n = 48, classes = 4): FeatureTable {
  const r = new Rng(11);
  const { codes, classes: names } = labelIndex(Array.from({ length: n }, (_, i) => `g${i % classes}`));
  const img = new Float32Array(n * 6);
  const txt = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 6; j++) img[i * 6 + j] = (j === codes[i] ? 2 : 0) + 0.3 * r.normal();
    for (let j = 0; j < 3; j++) txt[i * 3 + j] = r.normal();
  }
  return {
    n,
    ids: [],
    labels: codes,
    classes: names,
    blocks: [
      { encoder: "img", vectors: img, dim: 6 },
      { encoder: "txt", vectors: txt, dim: 3 },
    ],
  };
}

describe("cached features in src/train's Learner", () => {
  it("fuses two cached blocks, trains an ArcFace head with AdamW, the loss falls, the loop does not leak", async () => {
    await readyEmbeddingBackend();
    const t = table();
    const projImg = tf.layers.dense({ units: 8, inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), name: "proj_img" });
    const projTxt = tf.layers.dense({ units: 8, inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), name: "proj_txt" });
    const head = makeHead("arcface", { classes: t.classes.length, seed: 3, s: 8, m: 0.2 });
    const embed = (inputs: tf.Tensor[]) => tf.add(projImg.apply(inputs[0]!) as tf.Tensor, projTxt.apply(inputs[1]!) as tf.Tensor) as tf.Tensor2D;
    // build the layers once so their variables exist
    tf.tidy(() => {
      head.apply([embed([tf.zeros([1, 6]), tf.zeros([1, 3])]), tf.zeros([1], "int32")]);
    });
    const params: NamedParam[] = [projImg, projTxt, head].flatMap((l) =>
      l.trainableWeights.map((w) => ({ name: `${l.name}/${w.originalName}`, variable: w.read() as tf.Variable })),
    );
    const optimizer = adamW(params, { lr: 0.05 });
    // counted after the model and optimiser exist: training on cached features must not grow it
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    const l = learner({
      params,
      data: featureBatchSource(t, { rows: Int32Array.from({ length: 40 }, (_, i) => i) }),
      optimizer,
      batchSize: 8,
      epochs: 8,
      seed: 5,
      forward: (batch: Batch) => {
        const logits = head.apply([embed(batch.inputs), batch.labels], { training: true }) as tf.Tensor2D;
        return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels.toInt(), t.classes.length), logits) as tf.Scalar };
      },
      callbacks: [
        {
          afterBatch: (lr) => {
            losses.push(lr.loss);
          },
        },
      ],
    });
    await l.fit();
    expect(tf.memory().numTensors).toBe(before);
    expect(l.step).toBe(40);
    const early = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const late = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(losses).toHaveLength(40);
    expect(late).toBeLessThan(early * 0.5);
    // the trained fused embedding separates groups: nearest class centre of the held-out rows
    const z = tf.tidy(() => embed([tf.tensor2d(t.blocks[0]!.vectors, [t.n, 6]), tf.tensor2d(t.blocks[1]!.vectors, [t.n, 3])]).arraySync());
    const centre = (c: number) => z[0]!.map((_, j) => z.filter((_, i) => i < 40 && t.labels[i] === c).reduce((a, r) => a + r[j]!, 0));
    const centres = [0, 1, 2, 3].map(centre);
    const cos = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    let right = 0;
    for (let i = 40; i < t.n; i++) {
      const sims = centres.map((c) => cos(z[i]!, c));
      if (sims.indexOf(Math.max(...sims)) === t.labels[i]) right++;
    }
    expect(right).toBeGreaterThanOrEqual(7);
    optimizer.dispose();
    for (const layer of [projImg, projTxt, head]) layer.dispose();
  });
});
