/**
 * Trained runs applied to a dataset (src/train/predict.ts), on the cpu backend and a tiny generated
 * dataset: loadRunModel rebuilds a finished run from its folder and best.ckpt and reproduces the
 * run's own out-of-fold embeddings; embedWithMember gives L2-normalised rows in the dataset's order,
 * averages a cv's fold models, works on an unlabelled CSV, and names a missing branch.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { formatCsv } from "../../src/data/csv";
import { type Dataset, loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { readEmbeddingsFile } from "../../src/retrieval/embedding_file";
import { type RunConfig, resolveConfig } from "../../src/train/config";
import { finishCv } from "../../src/train/cv";
import { embedWithMember, loadRunModel } from "../../src/train/predict";
import { type TrainRunResult, trainRun, trainRunLine } from "../../src/train/run";
import { writeTinyDataset } from "./fixture";

let work = "";
let dsDir = "";
let runsDir = "";
let ds: Dataset;
const saved = { cacheDir: env.cacheDir, progress: env.progress };
const runs: TrainRunResult[] = [];
const DIM = 8;

/** 12 groups × 3 rows, 2 folds; a transformer text encoder and attention fusion (a second architecture beside fold_all's). */
function config(fold: number): RunConfig {
  return resolveConfig({
    name: "tinypred",
    seed: 4,
    backend: "cpu",
    data: { dataset: dsDir, folds: 2, fold, image_size: 8 },
    model: { image: { widths: [4] }, text: { encoder: "transformer", vocab: 64, max_len: 6, width: 8, heads: 2 }, embedding_dim: DIM, dropout: 0 },
    heads: { fused: { kind: "arcface", s: 10, m: 0.2 }, text: { kind: "cosface", s: 10, m: 0.1 } },
    optim: { batch_size: 6, epochs: 2, lr: 0.01 },
    train: { log_period: 0, warmup_steps: 1 },
    eval: { batch_size: 5 },
    match: { knn: 8 },
  });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-predict-"));
  dsDir = path.join(work, "ds");
  runsDir = path.join(work, "runs");
  await writeTinyDataset(dsDir, { groups: 12, per: 3 });
  env.cacheDir = path.join(work, "cache");
  env.progress = false;
  ds = await loadDataset(dsDir);
  await initBackend({ backend: "cpu" });
  for (const fold of [0, 1]) runs.push(await trainRun(config(fold), { runsDir, runId: `pred-f${fold}`, dataset: ds, skipBackend: true, progressBars: false, log: () => {} }));
  finishCv(runsDir, "cv-pred", config(0), runs.map((r, fold) => ({ fold, ...trainRunLine(r) })), ds.listings.map((l) => l.postingId));
}, 300_000);
afterAll(() => {
  Object.assign(env, saved);
  rmSync(work, { recursive: true, force: true });
});

const rowIndex = () => new Map(ds.listings.map((l, i) => [l.postingId, i]));

function norms(data: Float32Array, dim: number): number[] {
  return Array.from({ length: data.length / dim }, (_, i) => Math.hypot(...data.subarray(i * dim, (i + 1) * dim)));
}

function expectClose(a: Float32Array, b: Float32Array, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThan(tol);
}

describe("loadRunModel", () => {
  it("reproduces the run's out-of-fold embeddings of its validation rows, on every branch", async () => {
    const before = tf.memory().numTensors;
    const m = await loadRunModel(runsDir, "pred-f0", ds);
    try {
      expect(m.checkpoint).toBe("best.ckpt");
      expect(m.split.valid.length).toBe(ds.listings.length);
      expect(m.split.numClasses).toBe(runs[0]!.model.split.numClasses);
      expect([...m.net.branches]).toEqual(["image", "text", "fused"]);
      const at = rowIndex();
      for (const branch of m.net.branches) {
        const oof = readEmbeddingsFile(path.join(runsDir, "pred-f0", "oof", `${branch}.f32`));
        expect(oof.rows).toBe(18);
        const rows = Int32Array.from(oof.postingIds!, (id) => at.get(id)!);
        expect(Array.from(rows)).toEqual(Array.from(runs[0]!.model.split.valid));
        expectClose(m.embed(rows, branch), oof.data, 1e-5);
      }
    } finally {
      m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("loads the last checkpoint when asked, and a run folder path as well as an id", async () => {
    const last = await loadRunModel(runsDir, "pred-f0", ds, { checkpoint: "last" });
    const byDir = await loadRunModel("unused", path.join(runsDir, "pred-f0"), ds);
    try {
      expect(last.checkpoint).toMatch(/^step-\d+\.ckpt$/);
      expect(byDir.checkpoint).toBe("best.ckpt");
    } finally {
      last.dispose();
      byDir.dispose();
    }
  });

  it("names a run that does not exist", async () => {
    await expect(loadRunModel(runsDir, "no-such-run", ds)).rejects.toThrow(/run not found: no-such-run/);
  });
});

describe("embedWithMember", () => {
  it("returns L2-normalised rows of every listing, equal to the run's model", async () => {
    const e = await embedWithMember(runsDir, "pred-f0", ds, "fused");
    expect(e.dim).toBe(DIM);
    expect(e.runs).toEqual(["pred-f0"]);
    expect(e.data.length).toBe(ds.listings.length * DIM);
    for (const n of norms(e.data, DIM)) expect(n).toBeCloseTo(1, 5);
    const m = await loadRunModel(runsDir, "pred-f0", ds);
    try {
      expectClose(e.data, m.embed(Int32Array.from(ds.listings, (_, i) => i), "fused"), 1e-5);
    } finally {
      m.dispose();
    }
  });

  it("averages a cv's fold models, then normalises", async () => {
    const e = await embedWithMember(runsDir, "cv-pred", ds, "text");
    expect(e.runs).toEqual(["pred-f0", "pred-f1"]);
    const a = await embedWithMember(runsDir, "pred-f0", ds, "text");
    const b = await embedWithMember(runsDir, "pred-f1", ds, "text");
    const want = new Float32Array(a.data.length);
    for (let i = 0; i < ds.listings.length; i++) {
      let s = 0;
      for (let c = 0; c < DIM; c++) s += (a.data[i * DIM + c]! + b.data[i * DIM + c]!) ** 2;
      for (let c = 0; c < DIM; c++) want[i * DIM + c] = (a.data[i * DIM + c]! + b.data[i * DIM + c]!) / Math.sqrt(s);
    }
    expectClose(e.data, want, 1e-5);
    for (const n of norms(e.data, DIM)) expect(n).toBeCloseTo(1, 5);
  });

  it("embeds an unlabelled CSV in its own row order", async () => {
    const rev = [...ds.listings].reverse();
    writeFileSync(path.join(dsDir, "test.csv"), formatCsv(["posting_id", "image", "title"], rev.map((l) => [l.postingId, l.image, l.title])));
    const test = await loadDataset(dsDir, { csv: "test.csv", labels: "optional" });
    expect(test.hasLabels).toBe(false);
    const e = await embedWithMember(runsDir, "pred-f0", test, "image");
    const ref = await embedWithMember(runsDir, "pred-f0", ds, "image");
    const n = ds.listings.length;
    const want = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) want.set(ref.data.subarray((n - 1 - i) * DIM, (n - i) * DIM), i * DIM);
    expectClose(e.data, want, 1e-5);
  });

  it("names a branch the model lacks", async () => {
    await expect(embedWithMember(runsDir, "pred-f0", ds, "pixels")).rejects.toThrow(/run pred-f0 has no pixels branch \(it has image\|text\|fused\)/);
  });
});
