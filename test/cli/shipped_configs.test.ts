/**
 * The shipped configs through the real CLI, shortened: `matchlab cv` on the classification config
 * with two folds at a time, the augmented config with 0 and 2 augmentation workers, the strong recipe
 * (pretrained MobileNetV2 trunk with its own LR, bag text encoder), and `matchlab study` on the
 * matching study config, on the sample dataset (each run cut to a few optimiser steps).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { matchlabCli } from "./spawn_cli";

const ROOT = path.resolve(__dirname, "../..");
const SAMPLE = path.join(ROOT, "data", "emoji-match-sample");
let work = "";

const matchlab = (args: string[]) => matchlabCli(args, { MATCHLAB_RUNS_DIR: path.join(work, "runs") });

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-shipped-"));
  if (!existsSync(path.join(SAMPLE, "train.csv"))) {
    const r = await matchlab(["data", "--sample", "--out", SAMPLE]);
    if (r.code !== 0) throw new Error(`building the sample failed:\n${r.stderr}`);
  }
}, 300_000);

describe("shipped configs through the CLI", () => {
  it("matchlab cv --config configs/classify.yaml --parallel 2: every fold of the classification task", async () => {
    const r = await matchlab(["cv", "--config", "configs/classify.yaml", "--dataset", SAMPLE, "--parallel", "2", "--max_iters", "2", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.slice(0, 3).map((l) => [l.fold, l.code, l.task, l.metric, l.steps])).toEqual([0, 1, 2].map((f) => [f, 0, "classify", "val_macro_f1", 2]));
    expect(lines[3]).toMatchObject({ task: "classify", metric: "val_macro_f1", folds: 3, ok: 3, oof_rows: null });
    const cv = JSON.parse(readFileSync(path.join(work, "runs", lines[3].cv, "cv.json"), "utf8"));
    expect(cv.folds.map((f: { run: string }) => f.run)).toEqual(lines.slice(0, 3).map((l) => l.run));
  }, 600_000);

  it("configs/augmented.yaml trains through the augmentation workers: the same weights with 0 and 2 workers", async () => {
    const run = async (workers: string) => {
      const r = await matchlab(["train", "--config", "configs/augmented.yaml", "--dataset", SAMPLE, "--max_iters", "3", "--set", `data.num_workers=${workers}`, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split("\n").pop()!);
    };
    const a = await run("0");
    const b = await run("2");
    expect(a.steps).toBe(3);
    expect(b.weights_sha256).toBe(a.weights_sha256);
  }, 600_000);

  it("configs/strong.yaml trains from the pretrained MobileNetV2 trunk: three branches, OOF embeddings", async () => {
    const r = await matchlab(["train", "--config", "configs/strong.yaml", "--dataset", SAMPLE, "--max_iters", "2", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(s).toMatchObject({ task: "match", steps: 2 });
    const dir = path.join(work, "runs", s.run);
    for (const b of ["fused", "image", "text"]) expect(existsSync(path.join(dir, "oof", `${b}.f32`)), b).toBe(true);
    const cfg = readFileSync(path.join(dir, "config.yaml"), "utf8");
    expect(cfg).toMatch(/pretrained: true/);
  }, 600_000);

  it("matchlab study on a matching config: the task's metrics, mean ± std per arm", async () => {
    const out = path.join(work, "study");
    const r = await matchlab(["study", "--config", "configs/study_match.yaml", "--dataset", SAMPLE, "--run-folds", "1", "--max_iters", "2", "--out", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(res).toMatchObject({ task: "match", metrics: ["val_f1", "val_accuracy", "val_top5", "val_macro_f1"] });
    expect(res.arms.map((a: Record<string, unknown>) => [a["model.fusion.kind"], a["loss.triplet_weight"]])).toEqual([
      ["concat", 0],
      ["concat", 1],
      ["add", 0],
      ["add", 1],
    ]);
    for (const a of res.arms) expect(Number.isFinite(a.val_f1.mean)).toBe(true);
    expect(readFileSync(path.join(out, "summary.csv"), "utf8").split("\n")[0]).toContain("val_f1_mean");
  }, 600_000);
});
