/**
 * `matchlab train --task classify` through the CLI dispatcher (in process): a tiny subgroup
 * classifier on a generated dataset lands in the run registry with metrics.csv in the VQA notes'
 * shape, summary.json and config.yaml, and `matchlab runs` lists it; bad tasks, flags and keys are
 * rejected naming what would be right.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/run_cli";
import { env } from "../../src/env";
import { CLASSIFY_METRICS_COLUMNS, resolveClassifyConfig } from "../../src/imbalance/index";
import { goodRows, makeDataset } from "../data/fixtures";

// 24 listings, 3 subgroups (12 / 8 / 4) with tags per subgroup
const SUB = ["face", "animal", "flag"];
const rows = goodRows(24).map((r, i) => {
  const c = i < 12 ? 0 : i < 20 ? 1 : 2;
  return { ...r, title: `${SUB[c]} item ${i}`, subgroup: SUB[c]!, tags: `${SUB[c]}|tag${c}` };
});
let dsDir = "";
let work = "";
let runsDir = "";
let cfgFile = "";
const saved = { cacheDir: env.cacheDir, progress: env.progress };

beforeAll(async () => {
  await tf.setBackend("cpu");
  dsDir = await makeDataset(rows);
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-train-classify-"));
  runsDir = path.join(work, "runs");
  env.cacheDir = path.join(work, "cache");
  env.progress = false;
  cfgFile = path.join(work, "tiny_classify.yaml");
  writeFileSync(
    cfgFile,
    [
      "task: classify",
      "name: tinycls",
      "seed: 2",
      `data: { dataset: ${JSON.stringify(dsDir)}, folds: 2, image_size: 8, vocab: 64, max_len: 8 }`,
      "model: { image_widths: [4, 8], width: 8, heads: 2, embedding_dim: 8 }",
      "loss: { class_weights: power, class_weight_alpha: 0.5 }",
      "optim: { epochs: 2, batch_size: 4 }",
      "",
    ].join("\n"),
  );
});
afterAll(() => {
  env.cacheDir = saved.cacheDir;
  env.progress = saved.progress;
  rmSync(dsDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("matchlab train --task classify", () => {
  it("trains one fold into the run registry, deterministically, and `matchlab runs` lists it", async () => {
    const before = tf.memory().numTensors;
    const args = ["train", "--task", "classify", "--label", "subgroup", "--tags", "--config", cfgFile, "--fold", "1", "--backend", "cpu", "--runs-dir", runsDir, "--json"];
    const a = await runCli([...args, "--run", "a"]);
    expect(a.code, a.err).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const ra = JSON.parse(a.out.trim().split("\n").pop()!);
    expect(Object.keys(ra)).toEqual(["run", "task", "label", "classes", "best_val_accuracy", "best_val_macro_f1", "final_val_accuracy", "final_val_macro_f1", "steps", "weights_sha256"]);
    expect(ra).toMatchObject({ run: "a", task: "classify", label: "subgroup", classes: 3 });
    expect(ra.steps).toBe(2 * Math.floor(12 / 4)); // 12 training rows in fold 1 of 2, batch 4, 2 epochs
    expect(ra.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const k of ["best_val_accuracy", "best_val_macro_f1"]) expect(ra[k]).toBeGreaterThanOrEqual(0);

    const dir = path.join(runsDir, "a");
    const lines = readFileSync(path.join(dir, "metrics.csv"), "utf8").trim().split("\n");
    expect(lines[0]!.split(",")).toEqual(CLASSIFY_METRICS_COLUMNS);
    expect(lines.length).toBe(3); // header + one row per epoch
    const cells = lines.slice(1).map((l) => l.split(",").map(Number));
    expect(cells.map((c) => c[0])).toEqual([1, 2]);
    expect(cells.flat().every(Number.isFinite)).toBe(true);
    const valAcc = CLASSIFY_METRICS_COLUMNS.indexOf("val_accuracy");
    expect(Math.max(...cells.map((c) => c[valAcc]!))).toBeCloseTo(ra.best_val_accuracy, 12);

    const summary = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ run: "a", task: "classify", status: "finished", fold: 1, seed: 2, steps: ra.steps, epochs: 2, label: "subgroup", classes: 3, weights_sha256: ra.weights_sha256 });
    // config.yaml is the resolved classifier config with the flags applied, and loads back
    const cfg = resolveClassifyConfig((await import("js-yaml")).default.load(readFileSync(path.join(dir, "config.yaml"), "utf8")));
    expect(cfg).toMatchObject({ task: "classify", name: "tinycls", data: { label: "subgroup", tags: true, fold: 1 } });

    const b = await runCli([...args, "--run", "b"]);
    expect(b.code, b.err).toBe(0);
    expect(JSON.parse(b.out.trim().split("\n").pop()!).weights_sha256).toBe(ra.weights_sha256);

    const table = await runCli(["runs", "--runs-dir", runsDir]);
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/\ba\s+finished\s+classify\s+1\s+2\s+6\s+2\b/);
    const again = await runCli([...args, "--run", "a"]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/run a already exists/);
  }, 60_000);

  it("rejects an unknown task, listing match|classify", async () => {
    const r = await runCli(["train", "--task", "detect", "--config", cfgFile, "--runs-dir", runsDir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown task: detect \(expected match\|classify\)/);
  });

  it("rejects flags of the other task and unknown or bad config keys, naming them", async () => {
    const base = ["train", "--task", "classify", "--config", cfgFile, "--runs-dir", runsDir];
    expect((await runCli([...base, "--max_iters", "3"])).err).toMatch(/--max_iters applies to --task match only/);
    expect((await runCli([...base, "--resume"])).err).toMatch(/--resume applies to --task match only/);
    expect((await runCli([...base, "--set", "optim.lrr=1"])).err).toMatch(/--set: unknown key optim\.lrr \(expected one of .*optim\.lr\|/);
    expect((await runCli([...base, "--set", "sampling.kind=balanced"])).err).toMatch(/bad value for sampling\.kind: "balanced" \(expected one of natural\|class_balanced\)/);
    expect((await runCli([...base, "--fold", "2"])).err).toMatch(/bad value for data\.fold: 2 \(expected an integer in \[0, 1\]/);
    expect((await runCli([...base, "--label", "colour"])).err).toMatch(/unknown label column: colour \(expected .*subgroup/);
    // a matching config does not take classifier flags
    expect((await runCli(["train", "--config", "configs/quick.yaml", "--label", "subgroup"])).err).toMatch(/--label applies to --task classify only/);
    // a study grid is not one run
    const grid = path.join(work, "grid.yaml");
    writeFileSync(grid, `task: classify\ngrid: { data.tags: [false, true] }\n`);
    expect((await runCli(["train", "--config", grid, "--runs-dir", runsDir])).err).toMatch(/has a grid; run it with matchlab study/);
  });
});
