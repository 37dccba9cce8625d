/**
 * Studies end to end on a tiny generated dataset (cpu backend): every (arm, fold) is a real run in
 * the study's folder, and results.csv / summary.csv carry the task's study metrics, for a classify
 * study and a match study alike.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "../../src/env";
import { resolveConfig } from "../../src/train/config";
import { readMetricsCsv } from "../../src/train/registry";
import { metricsColumns } from "../../src/train/run";
import { runStudy, studyRunId } from "../../src/train/study";
import { taskDef } from "../../src/train/tasks/index";
import { goodRows, makeDataset } from "../data/fixtures";

// 24 listings in label groups of two, 3 subgroups (12 / 8 / 4), tags per subgroup
const SUB = ["face", "animal", "flag"];
const rows = goodRows(24).map((r, i) => {
  const c = i < 12 ? 0 : i < 20 ? 1 : 2;
  return { ...r, subgroup: SUB[c]!, tags: `${SUB[c]}|tag${c}` };
});
let dsDir = "";
let work = "";
const saved = { cacheDir: env.cacheDir, runsDir: env.runsDir, progress: env.progress };

/** A tiny model: 8×8 images, one ResNet stage of width 4, 16-d n-grams, 8-d embeddings. */
function tinyStudy(over: Record<string, unknown>) {
  return resolveConfig({
    name: "tinystudy",
    seed: 1,
    backend: "cpu",
    data: { dataset: dsDir, folds: 2, image_size: 8 },
    model: { image: { widths: [4] }, text: { dim: 16 }, fusion: { width: 8, heads: 2 }, embedding_dim: 8 },
    optim: { batch_size: 4, epochs: 1 },
    train: { log_period: 0 },
    eval: { batch_size: 16 },
    ...over,
  });
}

const csv = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(","));

beforeAll(async () => {
  await tf.setBackend("cpu");
  dsDir = await makeDataset(rows);
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-study-"));
  env.cacheDir = path.join(work, "cache");
  env.runsDir = path.join(work, "runs");
  env.progress = false;
});
afterAll(() => {
  Object.assign(env, saved);
  rmSync(dsDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("runStudy", () => {
  it("classify: trains every arm on every fold into the study's folder", async () => {
    const cfg = tinyStudy({ task: "classify", classify: { label: "subgroup" }, optim: { batch_size: 4, epochs: 2 }, grid: { "data.tags": [false, true] } });
    const def = taskDef("classify");
    const out = path.join(work, "study-classify");
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const r = await runStudy(cfg, { outDir: out, runFolds: 2, onResult: (row) => seen.push(`${row.arm}/${row.fold}`) });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.dir).toBe(out);
    expect(r.rows).toBe(24);
    expect(r.metrics).toEqual(def.studyMetrics);
    expect(r.metrics[0]).toBe("val_macro_f1");
    expect(r.arms.map((a) => a.name)).toEqual(["tags=false", "tags=true"]);
    expect(seen).toEqual(["tags=false/0", "tags=false/1", "tags=true/0", "tags=true/1"]);
    expect(r.results.map((x) => x.run)).toEqual(seen.map((s) => studyRunId(s.split("/")[0]!, Number(s.split("/")[1]))));
    for (const x of r.results) for (const m of r.metrics) expect(Number.isFinite(x.metrics[m])).toBe(true);
    expect(r.summary.map((s) => [s.arm, s.folds])).toEqual([
      ["tags=false", 2],
      ["tags=true", 2],
    ]);

    const results = csv(path.join(out, "results.csv"));
    expect(results[0]).toEqual(["arm", "data.tags", "fold", "run", ...def.studyMetrics, "steps", "seconds"]);
    expect(results.length).toBe(1 + 4);
    expect(results[4]!.slice(0, 4)).toEqual(["tags=true", "true", "1", "tags=true-fold1"]);
    const summary = csv(path.join(out, "summary.csv"));
    expect(summary[0]).toEqual(["arm", "data.tags", "folds", ...def.studyMetrics.flatMap((m) => [`${m}_mean`, `${m}_std`]), "seconds"]);
    expect(summary.length).toBe(1 + 2);
    // study.yaml is the study's config, grid included
    const yaml = readFileSync(path.join(out, "study.yaml"), "utf8");
    expect(yaml).toMatch(/task: classify/);
    expect(yaml).toMatch(/data\.tags/);

    // each (arm, fold) is a registered run
    for (const x of r.results) {
      const dir = path.join(out, x.run);
      expect(existsSync(path.join(dir, "config.yaml"))).toBe(true);
      expect(statSync(path.join(dir, "checkpoints")).isDirectory()).toBe(true);
      expect(readdirSync(path.join(dir, "checkpoints")).length).toBeGreaterThan(0);
      expect(csv(path.join(dir, "metrics.csv"))[0]).toEqual(metricsColumns(def));
      const m = readMetricsCsv(path.join(dir, "metrics.csv"));
      expect(m.map((e) => e.epoch)).toEqual([1, 2]); // one row per epoch
      expect(m[1]!.val_macro_f1).toBeCloseTo(x.metrics.val_macro_f1!, 5);
      const s = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8"));
      expect(s).toMatchObject({ run: x.run, task: "classify", fold: x.fold, status: "finished", metric: "val_macro_f1", metric_mode: "max", steps: x.steps, epochs: 2 });
      expect(s.final).toBeCloseTo(x.metrics.val_macro_f1!, 12);
      expect(s.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
      // the arm's value reached the run's config
      expect(readFileSync(path.join(dir, "config.yaml"), "utf8")).toMatch(new RegExp(`tags: ${x.values["data.tags"]}\\n`));
    }
  }, 120_000);

  it("match: summarises the match task's metrics, val_f1 first, in env.runsDir by default", async () => {
    const cfg = tinyStudy({ task: "match", match: { knn: 5 }, grid: { "loss.triplet_weight": [0, 0.5] } });
    const r = await runStudy(cfg, { runFolds: 1 });
    expect(path.dirname(r.dir)).toBe(env.runsDir);
    expect(path.basename(r.dir)).toMatch(/^study-tinystudy-\d{8}-\d{6}$/);
    expect(r.metrics).toEqual(taskDef("match").studyMetrics);
    expect(r.metrics[0]).toBe("val_f1");
    expect(r.results.map((x) => [x.arm, x.fold])).toEqual([
      ["triplet_weight=0", 0],
      ["triplet_weight=0.5", 0],
    ]);
    expect(r.summary.every((s) => s.folds === 1 && Number.isNaN(s.metrics.val_f1!.std))).toBe(true);
    for (const s of r.summary) for (const m of r.metrics) expect(Number.isFinite(s.metrics[m]!.mean)).toBe(true);
    const summary = csv(path.join(r.dir, "summary.csv"));
    expect(summary[0]!.slice(0, 5)).toEqual(["arm", "loss.triplet_weight", "folds", "val_f1_mean", "val_f1_std"]);
    const s = JSON.parse(readFileSync(path.join(r.dir, r.results[1]!.run, "summary.json"), "utf8"));
    expect(s).toMatchObject({ task: "match", metric: "val_f1", status: "finished" });
    expect(csv(path.join(r.dir, r.results[1]!.run, "metrics.csv"))[0]).toEqual(metricsColumns(taskDef("match")));
  }, 120_000);
});
