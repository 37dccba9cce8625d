/**
 * A diverging run through the real CLI, for every task: `matchlab train --lr 1e9` on a tiny dataset
 * ends with one line naming the step, the loss and the learning rate, exit status 3, the summary's
 * status `diverged`, and its newest checkpoint intact (loads, every weight finite); `matchlab cv`
 * reports such folds as diverged instead of crashing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DIVERGED_EXIT_CODE } from "../../src/train/divergence";
import { latestCheckpoint, loadCheckpoint } from "../../src/train/checkpoint";
import { matchlabCli } from "../cli/spawn_cli";
import { writeTinyDataset } from "./fixture";

let work = "";

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-diverge-"));
  await writeTinyDataset(path.join(work, "ds"), { groups: 8 });
}, 60_000);

const TASKS = [
  {
    task: "match",
    yaml: ["name: tinydiv", "seed: 1", "backend: cpu", "data: { folds: 4, fold: 0, image_size: 8 }", "model: { image: { widths: [4, 8] }, text: { dim: 64 }, embedding_dim: 16 }", "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }", "optim: { batch_size: 4, epochs: 3, lr: 0.01 }", "train: { ckpt_period: 1, log_period: 1 }", "match: { knn: 5 }"],
  },
  {
    task: "classify",
    yaml: ["task: classify", "name: tinydivcls", "seed: 1", "backend: wasm", "data: { folds: 3, fold: 0, image_size: 8 }", "classify: { label: label_group }", "model: { image: { widths: [4, 8], pooling: gap }, text: { dim: 64 }, embedding_dim: 16 }", "heads: { fused: { kind: softmax } }", "optim: { batch_size: 4, epochs: 3, lr: 0.01 }", "train: { ckpt_period: 1, log_period: 1 }"],
  },
] as const;

/** Writes a config whose data.dataset is the tiny dataset. */
function writeConfig(file: string, lines: readonly string[]): void {
  writeFileSync(file, `${lines.map((l) => l.replace("data: {", `data: { dataset: ${JSON.stringify(path.join(work, "ds"))},`)).join("\n")}\n`);
}

describe.each(TASKS)("matchlab train --lr 1e9 ($task)", ({ task, yaml }) => {
  it("stops as diverged: one line, exit 3, status diverged, the last checkpoint intact", async () => {
    const cfg = path.join(work, `${task}.yaml`);
    writeConfig(cfg, yaml);
    const runs = path.join(work, `runs-${task}`);
    const r = await matchlabCli(["train", "--config", cfg, "--runs-dir", runs, "--run", `div-${task}`, "--lr", "1e9"], { MATCHLAB_CACHE_DIR: path.join(work, "cache") });
    expect(r.code, r.stderr).toBe(DIVERGED_EXIT_CODE);
    const said = r.stderr.split("\n").filter((l) => l.startsWith("matchlab train:"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^matchlab train: diverged: .*step \d+ \(epoch \d+\): loss \S+, grad norm \S+, lr [\d.e+]+; \d+ non-finite step\(s\) skipped \(train.max_nonfinite_steps: 1\); lower optim.lr or set train.max_grad_norm; last good checkpoint step-\d+\.ckpt kept$/);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(r.stderr).not.toMatch(/confusionMatrix|is not an integer/);
    const summary = JSON.parse(readFileSync(path.join(runs, `div-${task}`, "summary.json"), "utf8"));
    expect(summary.status).toBe("diverged");
    expect(summary.stopReason).toBe(said[0]!.replace("matchlab train: ", ""));
    const last = latestCheckpoint(path.join(runs, `div-${task}`, "checkpoints"))!;
    expect(path.basename(last)).toBe(said[0]!.match(/(step-\d+\.ckpt)/)![1]);
    const ck = loadCheckpoint(last);
    expect(ck.tensors.length).toBeGreaterThan(0);
    for (const t of ck.tensors) for (const v of t.data) if (!Number.isFinite(v)) throw new Error(`${last}: ${t.name} holds ${v}`);
    // the log line of the step before has a finite gradient norm, and none of the applied steps is non-finite
    for (const l of r.stderr.split("\n").filter((x) => x.startsWith('{"event":"log"'))) expect(JSON.parse(l).grad_norm).not.toBeNull();
  }, 300_000);
});

describe("matchlab cv with diverging folds", () => {
  it("reports each fold as diverged and exits 1 without a cv record", async () => {
    const cfg = path.join(work, "cv.yaml");
    writeConfig(cfg, TASKS[0].yaml.map((l) => l.replace("folds: 4", "folds: 2").replace("epochs: 3", "epochs: 1")));
    const r = await matchlabCli(["cv", "--config", cfg, "--runs-dir", path.join(work, "runs-cv"), "--id", "cvdiv", "--lr", "1e9", "--json"], { MATCHLAB_CACHE_DIR: path.join(work, "cache") });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => [l.fold, l.code, l.status])).toEqual([
      [0, 3, "diverged"],
      [1, 3, "diverged"],
    ]);
    expect(lines[2]).toMatchObject({ cv: null, ok: 0 });
    expect(r.stderr).toContain("cv: 2 of 2 folds failed (fold 0: diverged, fold 1: diverged); no cv record written");
  }, 300_000);
});
