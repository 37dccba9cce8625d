/**
 * Exact resume through the real CLI, for every task: `matchlab train` runs in a child process, is
 * SIGKILLed mid-epoch right after a periodic checkpoint, resumed with --resume, and must end with
 * the same weights (SHA-256) as an uninterrupted run with the same seed. The classify task runs on
 * the wasm backend (what the project trains on). Also checks the run registry (metrics.csv,
 * summary.json naming the primary metric), `matchlab runs`, `matchlab validate-pending` and
 * `matchlab cv --parallel 2` for both tasks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeTinyDataset } from "./fixture";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "matchlab.js");
let work = "";

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-resume-"));
  await writeTinyDataset(path.join(work, "ds"), { groups: 16, phashColumn: true });
});

/** The two tasks' tiny configs: their metric, backend, and batches per epoch (train rows / 4). */
const TASKS = [
  {
    task: "match",
    args: [] as string[],
    metric: "val_f1",
    perEpoch: 9, // 4 folds of 16 groups × 3: 36 train rows
    yaml: [
      "name: tiny",
      "seed: 5",
      "backend: wasm", // with 2 augmentation workers: exact resume through the training loader on the backend the project trains on
      "data: { folds: 4, fold: 1, image_size: 8, decode_size: 10, num_workers: 2, prefetch: 2, augment: [{ randomResizedCrop: { size: 8, scale: [0.6, 1] } }, { horizontalFlip: { p: 0.5 } }] }",
      "model: { image: { widths: [4, 8] }, text: { dim: 64 }, embedding_dim: 16, dropout: 0.1 }",
      "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }",
      "optim: { batch_size: 4, epochs: 4, lr: 0.01 }",
      "train: { ckpt_period: 4, log_period: 0, warmup_steps: 3, max_grad_norm: 1 }",
      "match: { knn: 10 }",
    ],
  },
  {
    task: "classify",
    args: ["--task", "classify"], // as the issue's journey writes it (the config says so too)
    metric: "val_macro_f1",
    perEpoch: 8, // 3 stratified folds of 48 rows: 32 train rows
    yaml: [
      "task: classify",
      "name: tinycls",
      "seed: 5",
      "backend: wasm",
      "data: { folds: 3, fold: 1, image_size: 8, augment: [{ horizontalFlip: { p: 0.5 } }], sampling: class_balanced, sampling_alpha: 0.5 }",
      "classify: { label: label_group }",
      "model: { image: { widths: [4, 8], pooling: gap }, text: { encoder: transformer, vocab: 64, max_len: 6, width: 8, heads: 2 }, fusion: { kind: concat }, embedding_dim: 16, dropout: 0.1 }",
      "heads: { fused: { kind: softmax } }",
      "loss: { class_weights: power, class_weight_alpha: 0.5 }",
      "optim: { batch_size: 4, epochs: 4, lr: 0.01, schedule: linear, min_lr_factor: 0 }",
      "train: { ckpt_period: 3, log_period: 0, warmup_steps: 3, max_grad_norm: 1, gradient_accumulation_steps: 2 }",
    ],
  },
] as const;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function train(cfgFile: string, runsDir: string, args: string[], onErrLine?: (line: string, child: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "train", "--config", cfgFile, "--runs-dir", runsDir, "--json", ...args], {
      cwd: ROOT,
      env: { ...process.env, MATCHLAB_QUIET: "1", MATCHLAB_CACHE_DIR: path.join(work, "cache") },
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      partial += d;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const l of lines) onErrLine?.(l, child);
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function cli(runsDir: string, cmd: string[]): Promise<Exit> {
  return new Promise<Exit>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...cmd, "--runs-dir", runsDir], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1", MATCHLAB_CACHE_DIR: path.join(work, "cache") } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const lastJson = (s: string) => JSON.parse(s.trim().split("\n").pop()!);

describe.each(TASKS)("matchlab train --resume, task $task", ({ task, args, metric, perEpoch, yaml }) => {
  let cfgFile = "";
  let runsDir = "";
  beforeAll(() => {
    runsDir = path.join(work, `runs-${task}`);
    cfgFile = path.join(work, `${task}.yaml`);
    writeFileSync(cfgFile, `${yaml.join("\n").replace("data: {", `data: { dataset: ${JSON.stringify(path.join(work, "ds"))},`)}\n`);
  });

  it("continues exactly after SIGKILL mid-epoch", async () => {
    const a = await train(cfgFile, runsDir, [...args, "--run", "uninterrupted"]);
    expect(a.code, a.stderr).toBe(0);
    const ra = lastJson(a.stdout);
    expect(Object.keys(ra)).toEqual(["run", "task", "metric", "untrained", "best", "final", "steps", "weights_sha256"]);
    expect(ra).toMatchObject({ task, metric });
    expect(ra.steps).toBe(task === "match" ? perEpoch * 4 : (perEpoch / 2) * 4); // classify accumulates 2 micro-batches per step
    expect(ra.weights_sha256).toMatch(/^[0-9a-f]{64}$/);

    let killedAfter: { file: string; step: number; batch: number } | null = null;
    const b = await train(cfgFile, runsDir, [...args, "--run", "killed"], (line, child) => {
      if (killedAfter || !line.startsWith("{")) return;
      const ev = JSON.parse(line);
      if (ev.event === "checkpoint" && /^step-/.test(ev.file) && ev.batch > 0 && ev.batch < perEpoch) {
        killedAfter = ev;
        child.kill("SIGKILL");
      }
    });
    expect(b.signal, `the run ended before it could be killed:\n${b.stderr}`).toBe("SIGKILL");
    expect(killedAfter).not.toBeNull();

    const c = await train(cfgFile, runsDir, [...args, "--run", "killed", "--resume"]);
    expect(c.code, c.stderr).toBe(0);
    const resumed = c.stderr.split("\n").find((l) => l.includes('"event":"resume"'));
    expect(resumed, c.stderr).toBeDefined();
    expect(JSON.parse(resumed!).step).toBeGreaterThanOrEqual(killedAfter!.step);
    const rc = lastJson(c.stdout);
    expect(rc.steps).toBe(ra.steps);
    expect(rc.weights_sha256).toBe(ra.weights_sha256);
    expect(rc.untrained).toBe(ra.untrained);
    expect(rc.best).toBe(ra.best);

    // the registry: same per-epoch metrics (time aside), summary naming the primary metric, config
    const rows = (id: string) =>
      readFileSync(path.join(runsDir, id, "metrics.csv"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(",").filter((_, i) => i !== 2)); // drop time_s
    expect(rows("killed")).toEqual(rows("uninterrupted"));
    expect(rows("killed").length).toBe(5);
    expect(rows("killed")[0]).toContain(metric);
    expect(rows("killed")[0]).toContain("train_macro_f1");
    const summary = JSON.parse(readFileSync(path.join(runsDir, "killed", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ status: "finished", task, metric, metric_mode: "max", best: ra.best });
    expect(readFileSync(path.join(runsDir, "killed", "config.yaml"), "utf8")).toContain(`task: ${task}`);
  }, 300_000);

  it("lists runs with their primary metric and validates pending checkpoints once", async () => {
    const table = await cli(runsDir, ["runs"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`uninterrupted\\s+finished\\s+${task}\\s+1\\s+5\\s+\\d+\\s+4\\s+${metric}`));
    expect(table.stdout).toMatch(/killed\s+finished/);
    const v1 = await cli(runsDir, ["validate-pending", "--run", "uninterrupted", "--json", "--backend", "cpu"]);
    expect(v1.code, v1.stderr).toBe(0);
    const lines = v1.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => l.metric === metric && Number.isFinite(l.value))).toBe(true);
    const v2 = await cli(runsDir, ["validate-pending", "--run", "uninterrupted", "--backend", "cpu"]);
    expect(v2.stdout).toContain("nothing pending");
    expect(readFileSync(path.join(runsDir, "uninterrupted", "validation.csv"), "utf8").split("\n")[0]).toContain(metric);
  }, 300_000);

  it("cv trains every fold in its own child process, two at a time", async () => {
    const r = await cli(runsDir, ["cv", "--config", cfgFile, "--parallel", "2", "--max_iters", "2", "--json", "--gpus", "0,1"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const folds = task === "match" ? 4 : 3;
    expect(lines.slice(0, folds).map((l) => [l.fold, l.code, l.steps, l.metric])).toEqual(Array.from({ length: folds }, (_, f) => [f, 0, 2, metric]));
    expect(new Set(lines.slice(0, folds).map((l) => l.run)).size).toBe(folds);
    expect(lines[folds]).toMatchObject({ task, metric, folds, ok: folds });
  }, 300_000);
});

describe("matchlab train errors", () => {
  it("rejects a bad config key naming it", async () => {
    const bad = path.join(work, "bad.yaml");
    writeFileSync(bad, "optim: { learning_rate: 0.1 }\n");
    const r = await new Promise<Exit>((resolve) => {
      const child = spawn(process.execPath, [BIN, "train", "--config", bad], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1" } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown key optim\.learning_rate \(expected one of optimizer\|lr\|/);
  }, 60_000);
});
