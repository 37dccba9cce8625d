/**
 * `data.fold: all` against a normal fold, through trainRun on the cpu backend and a tiny generated
 * dataset: the final model trains on every row (more steps than a fold's run of the same config),
 * with no validation, no best metric, step checkpoints and no out-of-fold files; a normal fold
 * writes oof/<branch>.f32 for every branch, holding exactly its validation rows, from best.ckpt.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { readEmbeddingsFile } from "../../src/retrieval/embedding_file";
import { type RunConfig, resolveConfig } from "../../src/train/config";
import { readMetricsCsv, readRunSummary } from "../../src/train/registry";
import { type TrainRunResult, trainRun } from "../../src/train/run";
import { writeTinyDataset } from "./fixture";

let work = "";
let dsDir = "";
const saved = { cacheDir: env.cacheDir, progress: env.progress };
const EPOCHS = 2;
const BATCH = 4;

/** 16 groups × 3 rows; 4 folds of 4 groups: 36 training rows per fold, 48 in all. */
function config(fold: number | "all", over: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    name: "tinyall",
    seed: 2,
    backend: "cpu",
    data: { dataset: dsDir, folds: 4, fold, image_size: 8, augment: [{ horizontalFlip: { p: 0.5 } }] },
    model: { image: { widths: [4, 8] }, text: { dim: 32 }, embedding_dim: 8, dropout: 0 },
    heads: { fused: { kind: "arcface", s: 10, m: 0.2 } },
    optim: { batch_size: BATCH, epochs: EPOCHS, lr: 0.01 },
    train: { ckpt_period: 5, log_period: 0, warmup_steps: 2 },
    eval: { batch_size: 16 },
    match: { knn: 10 },
    ...over,
  });
}

let all: TrainRunResult;
let fold0: TrainRunResult;
let tensorsBefore = 0;
const logs: Record<string, string[]> = { all: [], fold0: [] };

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-foldall-"));
  dsDir = path.join(work, "ds");
  await writeTinyDataset(dsDir, { groups: 16, per: 3 });
  env.cacheDir = path.join(work, "cache");
  env.progress = false;
  const ds = await loadDataset(dsDir);
  await initBackend({ backend: "cpu" });
  tensorsBefore = tf.memory().numTensors;
  const runsDir = path.join(work, "runs");
  all = await trainRun(config("all"), { runsDir, runId: "all", dataset: ds, progressBars: false, log: (l) => logs.all!.push(l) });
  fold0 = await trainRun(config(0), { runsDir, runId: "fold0", dataset: ds, progressBars: false, log: (l) => logs.fold0!.push(l) });
}, 300_000);
afterAll(() => {
  Object.assign(env, saved);
  rmSync(work, { recursive: true, force: true });
});

const events = (lines: string[], event: string) => lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.event === event);

describe("data.fold: all", () => {
  it("trains on every row with no validation and no best metric", () => {
    expect(all.model.split.train.length).toBe(48);
    expect(all.model.split.valid.length).toBe(0);
    expect(all.model.split.numClasses).toBe(16);
    expect(all.best).toBeNull();
    expect(all.untrained).toBeNull();
    expect(all.final).toBeNull();
    expect(events(logs.all!, "untrained")).toEqual([]);
    const s = readRunSummary(path.join(work, "runs"), "all")!;
    expect(s).toMatchObject({ status: "finished", fold: "all", best: null, untrained: null, classes: 16, steps: all.steps, epochs: EPOCHS });
    expect(s.weights_sha256).toBe(all.weights_sha256);
  });

  it("takes every row's batches: more steps than a fold's run of the same config", () => {
    expect(all.steps).toBe(EPOCHS * Math.floor(48 / BATCH));
    expect(fold0.steps).toBe(EPOCHS * Math.floor(36 / BATCH));
    expect(all.steps).toBeGreaterThan(fold0.steps);
  });

  it("writes metrics.csv rows (train metrics, empty validation) and step checkpoints, but no best.ckpt", () => {
    const rows = readMetricsCsv(path.join(all.dir, "metrics.csv"));
    expect(rows.map((r) => r.epoch)).toEqual([1, 2]);
    expect(rows[EPOCHS - 1]!.step).toBe(all.steps);
    for (const r of rows) {
      expect(Number.isFinite(r.train_loss)).toBe(true);
      expect(Number.isNaN(r.val_f1!)).toBe(true);
    }
    const ckpts = readdirSync(path.join(all.dir, "checkpoints"));
    expect(ckpts.filter((f) => /^step-\d+\.ckpt$/.test(f)).length).toBeGreaterThan(0);
    expect(ckpts).toContain(`step-${all.steps}.ckpt`);
    expect(ckpts).not.toContain("best.ckpt");
  });

  it("writes no out-of-fold embeddings", () => {
    expect(existsSync(path.join(all.dir, "oof"))).toBe(false);
    expect(events(logs.all!, "oof")).toEqual([]);
  });
});

describe("a normal fold", () => {
  it("records where the time went in summary.json: setup, untrained validation, training (samples/s), validations", () => {
    const s = readRunSummary(path.join(work, "runs"), "fold0")!;
    const t = s.timing!;
    expect(t).toEqual(fold0.timing);
    expect(t.steps).toBe(fold0.steps);
    expect(t.samples).toBe(fold0.steps * BATCH);
    for (const k of ["setup_s", "untrained_s", "train_s", "train_cpu_s", "valid_s"] as const) expect(t[k]).toBeGreaterThan(0);
    expect(t.samples_per_s).toBeCloseTo(t.samples / t.train_s, 6);
    expect(t.setup_s + t.untrained_s + t.train_s + t.valid_s).toBeLessThanOrEqual(s.seconds);
    // no validation in a data.fold: all run
    expect(all.timing).toMatchObject({ untrained_s: 0, valid_s: 0, steps: all.steps, samples: all.steps * BATCH });
  });

  it("validates and keeps best.ckpt", () => {
    expect(fold0.model.split.valid.length).toBe(12);
    expect(fold0.best).not.toBeNull();
    expect(Number.isFinite(fold0.untrained)).toBe(true);
    expect(readdirSync(path.join(fold0.dir, "checkpoints"))).toContain("best.ckpt");
    expect(readMetricsCsv(path.join(fold0.dir, "metrics.csv")).every((r) => Number.isFinite(r.val_f1))).toBe(true);
  });

  it("writes oof/<branch>.f32 for every branch: the validation rows' ids, from best.ckpt", async () => {
    const ds = await loadDataset(dsDir);
    const { valid } = fold0.model.split;
    const ids = Array.from(valid, (r) => ds.listings[r]!.postingId);
    const branches = [...fold0.model.net.branches];
    expect(branches).toEqual(["image", "text", "fused"]);
    expect(readdirSync(path.join(fold0.dir, "oof")).sort()).toEqual(branches.flatMap((b) => [`${b}.f32`, `${b}.json`]).sort());
    // the validation rows are whole groups, never trained on
    const trainGroups = new Set(Array.from(fold0.model.split.train, (r) => ds.listings[r]!.labelGroup));
    expect(Array.from(valid).some((r) => trainGroups.has(ds.listings[r]!.labelGroup))).toBe(false);
    for (const branch of branches) {
      const e = readEmbeddingsFile(path.join(fold0.dir, "oof", `${branch}.f32`));
      expect(e.dim).toBe(8);
      expect(e.rows).toBe(valid.length);
      expect(e.postingIds).toEqual(ids);
      expect(e.oof).toBe(true);
      expect(e.meta).toMatchObject({ branch, fold: 0, run: "fold0", checkpoint: "best.ckpt", name: `fold0:${branch}` });
      // L2-normalised rows
      for (let i = 0; i < e.rows; i++) {
        let s = 0;
        for (let c = 0; c < e.dim; c++) s += e.data[i * e.dim + c]! ** 2;
        expect(Math.sqrt(s)).toBeCloseTo(1, 5);
      }
    }
    const ev = events(logs.fold0!, "oof");
    expect(ev).toEqual([{ event: "oof", rows: valid.length, branches, checkpoint: "best.ckpt" }]);
    expect(JSON.parse(readFileSync(path.join(fold0.dir, "summary.json"), "utf8")).fold).toBe(0);
  });

  it("leaves no tensors behind (both runs ran without keepModel)", () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
