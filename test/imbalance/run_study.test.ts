import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { CLASSIFY_METRICS_COLUMNS, classifierTokens, loadImageBytes, resolveStudyConfig, runStudy } from "../../src/imbalance/index";
import { goodRows, makeDataset } from "../data/fixtures";

// 24 listings, 3 subgroups (12 / 8 / 4), two listings per label_group, tags per subgroup
const SUB = ["face", "animal", "flag"];
const rows = goodRows(24).map((r, i) => {
  const c = i < 12 ? 0 : i < 20 ? 1 : 2;
  return { ...r, subgroup: SUB[c]!, tags: `${SUB[c]}|tag${c}` };
});
let dsDir = "";
let work = "";
const saved = { cacheDir: env.cacheDir, progress: env.progress };

beforeAll(async () => {
  await tf.setBackend("cpu");
  dsDir = await makeDataset(rows);
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-study-"));
  env.cacheDir = path.join(work, "cache");
  env.progress = false;
});
afterAll(() => {
  env.cacheDir = saved.cacheDir;
  env.progress = saved.progress;
  rmSync(dsDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("features", () => {
  it("decodes images once and reads them back from the cache", async () => {
    const ds = await loadDataset(dsDir);
    const a = await loadImageBytes(ds, { size: 8 });
    expect(a.data.length).toBe(24 * 8 * 8 * 3);
    expect(readdirSync(path.join(env.cacheDir, "classify")).length).toBe(1);
    const b = await loadImageBytes(ds, { size: 8 });
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    const c = await loadImageBytes(ds, { size: 8, cache: false });
    expect(Buffer.from(c.data).equals(Buffer.from(a.data))).toBe(true);
  });

  it("tokens differ with and without tags", async () => {
    const ds = await loadDataset(dsDir);
    const without = classifierTokens(ds.listings, { maxLen: 24 });
    const withTags = classifierTokens(ds.listings, { maxLen: 24, withTags: true });
    expect(without.length).toBe(24 * 24);
    expect(Array.from(without)).not.toEqual(Array.from(withTags));
  });
});

describe("runStudy", () => {
  it("trains every arm on every fold and writes results, summary and metrics.csv", async () => {
    const study = resolveStudyConfig({
      data: { dataset: dsDir, label: "subgroup", folds: 2, image_size: 8, vocab: 64, max_len: 12 },
      model: { image_widths: [4, 8], width: 8, heads: 2, embedding_dim: 8 },
      optim: { epochs: 1, batch_size: 4 },
      grid: { "model.fusion": ["concat", "transformer"], "data.tags": [false, true] },
    });
    const out = path.join(work, "study");
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const r = await runStudy(study, {
      outDir: out,
      onResult: (row) => {
        seen.push(`${row.arm}/${row.fold}`);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.classes).toBe(3);
    expect(r.rows).toBe(24);
    expect(seen.length).toBe(8);
    expect(r.summary.map((s) => s.arm)).toEqual(["fusion=concat tags=false", "fusion=concat tags=true", "fusion=transformer tags=false", "fusion=transformer tags=true"]);
    expect(r.summary.every((s) => s.folds === 2)).toBe(true);
    const results = readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\n");
    expect(results[0]).toBe("arm,fusion,tags,fold,accuracy,top5,macro_f1,micro_f1,macro_precision,macro_recall,val_loss,steps,seconds");
    expect(results.length).toBe(9);
    const summary = readFileSync(path.join(out, "summary.csv"), "utf8").trim().split("\n");
    expect(summary.length).toBe(5);
    expect(summary[0]).toContain("macro_f1_mean,macro_f1_std");
    expect(existsSync(path.join(out, "study.yaml"))).toBe(true);
    const m = readFileSync(path.join(out, "fusion=transformer_tags=true-fold1", "metrics.csv"), "utf8").split("\n")[0]!;
    expect(m.split(",")).toEqual(CLASSIFY_METRICS_COLUMNS);
  }, 120_000);

  it("rejects a missing label column before training", async () => {
    const study = resolveStudyConfig({ data: { dataset: dsDir, label: "colour" } });
    await expect(runStudy(study, { outDir: null })).rejects.toThrow(/unknown label column: colour/);
  });
});
