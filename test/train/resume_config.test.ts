/**
 * `--resume` against a changed config: model, data or training keys are refused naming each
 * difference; the schedule's length may change with a note recorded in config_changes.json; the
 * run's own config.yaml is kept.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { overrideConfig, resolveConfig, resumeDiff } from "../../src/train/config";
import { trainRun } from "../../src/train/run";
import { writeTinyDataset } from "./fixture";

let work = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  work = mkdtempSync(path.join(os.tmpdir(), "ml-resume-cfg-"));
  env.cacheDir = path.join(work, "cache");
  await writeTinyDataset(path.join(work, "ds"), { groups: 8, per: 3 });
});

const base = () =>
  resolveConfig({
    name: "rc",
    backend: "cpu",
    data: { dataset: path.join(work, "ds"), folds: 2, image_size: 8 },
    model: { image: { widths: [4] }, text: { dim: 32 }, embedding_dim: 8 },
    optim: { batch_size: 4, epochs: 1 },
    train: { log_period: 0 },
    match: { knn: 5 },
  });

describe("resume with a changed config", () => {
  it("compares key by key: schedule length apart, free keys ignored, the rest refused", () => {
    const a = base();
    let b = overrideConfig(a, "optim.epochs", "3");
    b = overrideConfig(b, "train.log_period", "5");
    b = overrideConfig(b, "model.embedding_dim", "16");
    const d = resumeDiff(a, b);
    expect(d.schedule).toEqual([["optim.epochs", 1, 3]]);
    expect(d.refused).toEqual([["model.embedding_dim", 8, 16]]);
    expect(resumeDiff(a, a)).toEqual({ schedule: [], refused: [] });
  });

  it("refuses a model change naming the key, accepts more epochs with a note, keeps config.yaml", async () => {
    const runsDir = path.join(work, "runs");
    const ds = await loadDataset(path.join(work, "ds"));
    const quiet = { runsDir, dataset: ds, skipBackend: true, progressBars: false };
    const lines: string[] = [];
    const first = await trainRun(base(), { ...quiet, runId: "r", log: () => {} });
    const yaml = readFileSync(path.join(first.dir, "config.yaml"), "utf8");
    await expect(trainRun(overrideConfig(base(), "model.embedding_dim", "16"), { ...quiet, runId: "r", resume: true, log: () => {} })).rejects.toThrow(/--resume: the config differs from the run's in model\.embedding_dim: 8 → 16/);
    const more = await trainRun(overrideConfig(base(), "optim.epochs", "2"), { ...quiet, runId: "r", resume: true, log: (l) => lines.push(l) });
    expect(more.learner.epoch).toBe(2);
    expect(lines.some((l) => l.includes('"resume-config"') && l.includes("optim.epochs: 1 → 2"))).toBe(true);
    expect(readFileSync(path.join(first.dir, "config.yaml"), "utf8")).toBe(yaml);
    const changes = JSON.parse(readFileSync(path.join(first.dir, "config_changes.json"), "utf8"));
    expect(changes).toHaveLength(1);
    expect(changes[0].changes).toEqual({ "optim.epochs": { before: 1, now: 2 } });
  }, 120_000);
});
