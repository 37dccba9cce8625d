/**
 * `model.input: features`: a run whose model input is cached frozen-encoder embeddings goes
 * through the same `trainRun` as a raw run (loop, callbacks, checkpoints, exact resume, registry).
 * The encoders are the tiny random-weight transformers.js models of test/embeddings (real
 * transformers.js loading, offline), on a generated dataset; the cache lives in a temp folder.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyDataset } from "./fixture";
import { initBackend } from "../../src/backend/index";
import { disposeEncoders } from "../../src/embeddings/index";
import { env } from "../../src/env";
import { ConfigError, type RunConfig, resolveConfig } from "../../src/train/config";
import type { Callback } from "../../src/train/learner";
import { makeLearner, prepareTask, trainRun } from "../../src/train/run";
import { writeTinyBert, writeTinyVit } from "../embeddings/tiny_models";

let work = "";
let savedCacheDir = "";

function featuresConfig(over: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    name: "feat",
    seed: 4,
    backend: "cpu",
    data: { dataset: path.join(work, "ds"), folds: 4, fold: 1 },
    model: { input: "features", encoders: ["hf-image:tiny-vit", "hf-text:tiny-bert"], fusion: { kind: "concat" }, embedding_dim: 8, dropout: 0.1 },
    heads: { fused: { kind: "arcface", s: 10, m: 0.2 }, text: { kind: "softmax" } },
    optim: { batch_size: 4, epochs: 3, lr: 0.01 },
    train: { ckpt_period: 4, log_period: 0, warmup_steps: 2, max_grad_norm: 1 },
    match: { knn: 10 },
    ...over,
  });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-train-features-"));
  await writeTinyDataset(path.join(work, "ds"));
  await initBackend({ backend: "cpu" });
  savedCacheDir = env.cacheDir;
  env.cacheDir = path.join(work, "cache");
  // transformers.js models are read from <cacheDir>/models by default
  writeTinyVit(path.join(env.cacheDir, "models", "tiny-vit"), { size: 8, patch: 4, hidden: 6 });
  writeTinyBert(path.join(env.cacheDir, "models", "tiny-bert"), { hidden: 8 });
});

afterAll(async () => {
  env.cacheDir = savedCacheDir;
  await disposeEncoders();
  rmSync(work, { recursive: true, force: true });
});

describe("model.input: features", () => {
  it("validates model.input and model.encoders strictly", () => {
    expect(() => featuresConfig({ model: { input: "cached" } })).toThrow(/bad value for model\.input: "cached" \(expected one of raw\|features\)/);
    expect(() => featuresConfig({ model: { input: "features", encoders: ["clip"] } })).toThrow(/model\.encoders\[0\]: unknown encoder: clip \(expected one of mobilenet-v2\|use-lite\|hf-text\|hf-image/);
    expect(() => featuresConfig({ model: { input: "features", encoders: "use-lite" } })).toThrow(ConfigError);
    expect(() => featuresConfig({ model: { input: "features" } })).toThrow(/model\.input: features needs model\.encoders/);
    expect(() => featuresConfig({ model: { encoders: ["use-lite"] } })).toThrow(/only read with model\.input: features/);
    expect(() => featuresConfig({ model: { input: "features", encoders: ["use-lite", "hf-text:tiny-bert"] } })).toThrow(/2 text encoders \(use-lite, hf-text:tiny-bert\)/);
    expect(() => featuresConfig({ data: { dataset: "x", augment: [{ horizontalFlip: { p: 0.5 } }] }, model: { input: "features", encoders: ["use-lite"], fusion: { kind: "none" } } })).toThrow(/data\.augment transforms raw images, but model\.input is features/);
    expect(resolveConfig({}).model).toMatchObject({ input: "raw", encoders: [] });
  });

  it("builds embedding layers + fusion over the cached blocks and trains without leaking", async () => {
    const cfg = featuresConfig();
    const task = await prepareTask(cfg, { progressBars: false });
    // image block first, then text, straight from the cache (1 row per listing)
    expect(task.data.features?.blocks.map((b) => [b.encoder, b.dim])).toEqual([
      ["hf-image:tiny-vit", 6],
      ["hf-text:tiny-bert", 8],
    ]);
    expect(task.data.images.length).toBe(0);
    expect(task.net.model.inputs.map((x) => [x.name.replace(/_\d+$/, ""), x.shape])).toEqual([
      ["image_features", [null, 6]],
      ["text_features", [null, 8]],
    ]);
    expect(task.net.branches).toEqual(["image", "text", "fused"]);
    // no image encoder layers: the model is the embedding layers (+ fusion) only
    expect(task.params.some((p) => /conv|depthwise/i.test(p.name))).toBe(false);
    const learner = makeLearner(task, cfg, { progressBars: false, log: () => {} });
    const before = tf.memory().numTensors;
    await learner.fit();
    expect(tf.memory().numTensors).toBe(before);
    expect(learner.step).toBe(Math.floor(task.split.train.length / 4) * 3);
    expect(Number.isFinite(learner.metrics.val_f1)).toBe(true);
    learner.optimizer.dispose();
    task.dispose();
  }, 30_000);

  it("goes through trainRun: run registry, checkpoints, exact resume", async () => {
    const runsDir = path.join(work, "runs");
    const cfg = featuresConfig();
    const a = await trainRun(cfg, { runId: "whole", runsDir, progressBars: false, log: () => {}, skipBackend: true });
    expect(a.steps).toBeGreaterThan(0);
    expect(a.metric).toBe("val_f1");
    expect(a.best).not.toBeNull();
    expect(a.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    const dir = path.join(runsDir, "whole");
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(["checkpoints", "config.yaml", "metrics.csv", "summary.json"]));
    const yaml = readFileSync(path.join(dir, "config.yaml"), "utf8");
    expect(yaml).toContain("input: features");
    expect(yaml).toMatch(/encoders:\n\s+- hf-image:tiny-vit\n\s+- hf-text:tiny-bert/);
    const csv = readFileSync(path.join(dir, "metrics.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toContain("val_f1");
    expect(csv.length).toBe(1 + 3); // header + one row per epoch
    const summary = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ status: "finished", task: "match", metric: "val_f1", best: a.best, steps: a.steps, weights_sha256: a.weights_sha256 });
    expect(readdirSync(path.join(dir, "checkpoints")).some((f) => /^step-\d+\.ckpt$/.test(f))).toBe(true);
    // the features were computed once into the cache
    expect(existsSync(path.join(env.cacheDir, "embeddings"))).toBe(true);

    // interrupted right after the step-4 checkpoint, then resumed: the same weights as the whole run
    const crash: Callback = {
      name: "crash",
      order: 100,
      afterBatch(l) {
        if (l.stepped && l.step === 4) throw new Error("simulated crash");
      },
    };
    await expect(trainRun(cfg, { runId: "cut", runsDir, progressBars: false, log: () => {}, skipBackend: true, callbacks: [crash] })).rejects.toThrow(/simulated crash/);
    expect(JSON.parse(readFileSync(path.join(runsDir, "cut", "summary.json"), "utf8")).status).toBe("failed");
    const lines: string[] = [];
    const c = await trainRun(cfg, { runId: "cut", resume: true, runsDir, progressBars: false, log: (s) => lines.push(s), skipBackend: true });
    expect(lines.some((s) => s.includes('"event":"resume"') && s.includes('"step":4'))).toBe(true);
    expect(c.steps).toBe(a.steps);
    expect(c.weights_sha256).toBe(a.weights_sha256);
    expect(c.best).toBe(a.best);
  }, 30_000);
});
