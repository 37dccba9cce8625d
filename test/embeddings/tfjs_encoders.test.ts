import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { disposeEncoders, embed, embedItems, loadEncoder, MOBILENET_DIM, mobilenetArtifacts, mobilenetBackbone, readyEmbeddingBackend } from "../../src/embeddings/index";
import { Rng } from "../../src/rng";

afterAll(async () => {
  await disposeEncoders();
});

function image(size: number, seed: number) {
  const r = new Rng(seed);
  return {
    data: Float32Array.from({ length: size * size * 3 }, () => r.next()),
    height: size,
    width: size,
    channels: 3 as const,
  };
}

describe("mobilenet-v2 (nsfwjs weights)", () => {
  it("the cut backbone equals the full nsfwjs model's out_relu, mean-pooled (1e-4), without leaking tensors", async () => {
    await readyEmbeddingBackend();
    const img = image(224, 1);
    const x = await embed([img], { model: "mobilenet-v2" });
    expect(x.length).toBe(MOBILENET_DIM);
    // reference: load the WHOLE nsfwjs model (all weights, 224 px) and read out_relu
    const { createRequire } = await import("node:module");
    const req = createRequire(import.meta.url);
    const dir = `${process.cwd()}/node_modules/nsfwjs/dist/models/mobilenet_v2`;
    const json = req(`${dir}/model.min.js`);
    const buf = Buffer.from(req(`${dir}/group1-shard1of1.min.js`) as string, "base64");
    const full = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
      }),
    );
    const cut = tf.model({
      inputs: full.inputs,
      outputs: full.getLayer("out_relu").output as tf.SymbolicTensor,
    });
    const before = tf.memory().numTensors;
    const ref = tf.tidy(() => (cut.predict(tf.tensor4d(img.data, [1, 224, 224, 3])) as tf.Tensor).mean([1, 2]).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    let maxErr = 0;
    for (let j = 0; j < MOBILENET_DIM; j++) maxErr = Math.max(maxErr, Math.abs(x[j]! - ref[j]!));
    expect(maxErr).toBeLessThan(1e-4);
    expect(x.some((v) => v > 0)).toBe(true);
    full.dispose();
  });

  it("runs at 96 px, supports max pooling, rejects cls, and does not leak", async () => {
    const enc = await loadEncoder("mobilenet-v2@96");
    await enc.encodeBatch([image(96, 1)], "mean"); // the weights load on the first batch
    const before = tf.memory().numTensors;
    const a = await enc.encodeBatch([image(96, 2), image(96, 3)], "mean");
    const m = await enc.encodeBatch([image(96, 2)], "max");
    expect(tf.memory().numTensors).toBe(before);
    expect(a.length).toBe(2 * MOBILENET_DIM);
    for (let j = 0; j < MOBILENET_DIM; j++) expect(m[j]!).toBeGreaterThanOrEqual(a[j]! - 1e-6);
    await expect(enc.encodeBatch([image(96, 2)], "cls")).rejects.toThrow(/cls is undefined for a CNN/);
    await expect(enc.encodeBatch([image(64, 2)], "mean")).rejects.toThrow(/64x64, expected 96x96/);
  });

  it("keeps only the backbone's weights and freezes up to the chosen block", async () => {
    const art = mobilenetArtifacts(96);
    expect(art.weightSpecs!.some((w) => w.name.startsWith("dense"))).toBe(false);
    const net = await mobilenetBackbone({ size: 96, trainableFrom: 14 });
    const trainable = net.trainableWeights.map((w) => w.originalName);
    expect(trainable.some((n) => n.startsWith("block_14_"))).toBe(true);
    expect(trainable.some((n) => n.startsWith("block_13_"))).toBe(false);
    expect(trainable.some((n) => n.includes("_BN/"))).toBe(false);
    expect(net.outputs[0]!.shape).toEqual([null, 1280]);
    const frozen = await mobilenetBackbone({ size: 96 });
    expect(frozen.trainableWeights).toHaveLength(0);
    expect(net.countParams()).toBe(2257984);
    net.dispose();
    frozen.dispose();
    await expect(mobilenetBackbone({ size: 96, trainableFrom: 3.5 })).rejects.toThrow(/trainableFrom must be none\|all\|0\.\.16/);
  });

  it("fine-tunes from a block on: only the trainable weights move, BN statistics stay", async () => {
    const net = await mobilenetBackbone({ size: 96, trainableFrom: 16 });
    const x = tf.tensor4d(image(96, 4).data, [1, 96, 96, 3]);
    const snap = (name: string) => net.weights.find((w) => w.originalName === name)!.read().dataSync().slice();
    const k16 = snap("block_16_project/kernel");
    const k15 = snap("block_15_project/kernel");
    const bn = snap("block_16_project_BN/moving_mean");
    const opt = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    opt.minimize(() => (net.apply(x, { training: false }) as tf.Tensor).square().mean() as tf.Scalar);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(snap("block_16_project/kernel"))).not.toEqual(Array.from(k16));
    expect(Array.from(snap("block_15_project/kernel"))).toEqual(Array.from(k15));
    expect(Array.from(snap("block_16_project_BN/moving_mean"))).toEqual(Array.from(bn));
    x.dispose();
    opt.dispose();
    net.dispose();
  });
});

describe("use-lite", () => {
  it("gives 512-d vectors where similar titles are closer, deterministic, without leaks", async () => {
    const enc = await loadEncoder("use-lite");
    await enc.encodeBatch(["warm up"], "mean"); // the graph loads on the first batch
    const before = tf.memory().numTensors;
    const x = await embed(["red heart", "a red heart", "grinning face"], {
      model: "use-lite",
      normalize: true,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(enc.dim).toBe(512);
    const dot = (i: number, j: number) => x.subarray(i * 512, i * 512 + 512).reduce((a, v, k) => a + v * x[j * 512 + k]!, 0);
    expect(dot(0, 1)).toBeGreaterThan(dot(0, 2));
    const y = await embed(["red heart"], {
      model: "use-lite",
      normalize: true,
    });
    expect(Array.from(y)).toEqual(Array.from(x.subarray(0, 512)));
    await expect(embed(["x"], { model: "use-lite", pooling: "max" })).rejects.toThrow(/pooling max is not supported \(expected mean\)/);
  });

  it("a run served wholly from the cache never loads the model", async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), "ml-use-cache-"));
    try {
      const opts = { model: "use-lite", ids: ["a", "b"], cacheDir, log: () => {} };
      const first = await embedItems(["red heart", "blue star"], opts);
      await disposeEncoders();
      const before = tf.memory().numTensors;
      const second = await embedItems(["red heart", "blue star"], opts);
      expect([second.computed, second.cached]).toEqual([0, 2]);
      expect(Array.from(second.vectors)).toEqual(Array.from(first.vectors));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("unknown encoder ids list the valid sources", async () => {
    await expect(embed(["x"], { model: "bert-base" })).rejects.toThrow("unknown encoder: bert-base (expected one of mobilenet-v2|use-lite|hf-text|hf-image");
    await expect(embed(["x"], { model: "hf-text" })).rejects.toThrow(/name a model after a colon/);
  });
});
