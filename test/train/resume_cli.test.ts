/**
 * Exact resume through the real CLI: `matchlab train` runs in a child process, is SIGKILLed
 * mid-epoch right after a periodic checkpoint, resumed with --resume, and must end with the same
 * weights (SHA-256) as an uninterrupted run with the same seed. Also checks the run registry
 * (metrics.csv, summary.json), `matchlab runs`, and `matchlab validate-pending`.
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
let cfgFile = "";
let runsDir = "";

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-resume-"));
  await writeTinyDataset(path.join(work, "ds"), { groups: 16, phashColumn: true });
  runsDir = path.join(work, "runs");
  cfgFile = path.join(work, "tiny.yaml");
  writeFileSync(
    cfgFile,
    [
      "name: tiny",
      "seed: 5",
      "backend: cpu",
      `data: { dataset: ${JSON.stringify(path.join(work, "ds"))}, folds: 4, fold: 1, image_size: 8, hflip: 0.5 }`,
      "model: { image: { widths: [4, 8] }, text: { dim: 64 }, embedding_dim: 16, dropout: 0.1 }",
      "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }",
      "optim: { batch_size: 4, epochs: 4, lr: 0.01 }",
      "train: { ckpt_period: 4, log_period: 0, warmup_steps: 3, max_grad_norm: 1 }",
      "eval: { knn: 10 }",
      "",
    ].join("\n"),
  );
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function train(args: string[], onErrLine?: (line: string, child: ChildProcess) => void): Promise<Exit> {
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

function cli(cmd: string[]): Promise<Exit> {
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

describe("matchlab train --resume", () => {
  it("continues exactly after SIGKILL mid-epoch", async () => {
    const a = await train(["--run", "uninterrupted"]);
    expect(a.code, a.stderr).toBe(0);
    const ra = lastJson(a.stdout);
    expect(Object.keys(ra)).toEqual(["run", "best_val_f1", "untrained_val_f1", "steps", "weights_sha256"]);
    expect(ra.steps).toBe(36); // 36 train rows / 4 = 9 steps × 4 epochs
    expect(ra.weights_sha256).toMatch(/^[0-9a-f]{64}$/);

    let killedAfter: { file: string; step: number; batch: number } | null = null;
    const b = await train(["--run", "killed"], (line, child) => {
      if (killedAfter || !line.startsWith("{")) return;
      const ev = JSON.parse(line);
      if (ev.event === "checkpoint" && /^step-/.test(ev.file) && ev.batch > 0 && ev.batch < 9) {
        killedAfter = ev;
        child.kill("SIGKILL");
      }
    });
    expect(b.signal, `the run ended before it could be killed:\n${b.stderr}`).toBe("SIGKILL");
    expect(killedAfter).not.toBeNull();

    const c = await train(["--run", "killed", "--resume"]);
    expect(c.code, c.stderr).toBe(0);
    const resumed = c.stderr.split("\n").find((l) => l.includes('"event":"resume"'));
    expect(resumed, c.stderr).toBeDefined();
    expect(JSON.parse(resumed!).step).toBeGreaterThanOrEqual(killedAfter!.step);
    const rc = lastJson(c.stdout);
    expect(rc.steps).toBe(36);
    expect(rc.weights_sha256).toBe(ra.weights_sha256);
    expect(rc.untrained_val_f1).toBe(ra.untrained_val_f1);
    expect(rc.best_val_f1).toBe(ra.best_val_f1);

    // the registry: same per-epoch metrics (time aside), summary, config
    const rows = (id: string) =>
      readFileSync(path.join(runsDir, id, "metrics.csv"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(",").filter((_, i) => i !== 2)); // drop time_s
    expect(rows("killed")).toEqual(rows("uninterrupted"));
    expect(rows("killed").length).toBe(5);
    expect(rows("killed")[0]).toContain("val_f1");
    const summary = JSON.parse(readFileSync(path.join(runsDir, "killed", "summary.json"), "utf8"));
    expect(summary.status).toBe("finished");
    expect(readFileSync(path.join(runsDir, "killed", "config.yaml"), "utf8")).toContain("name: tiny");
  }, 300_000);

  it("lists runs and validates pending checkpoints once", async () => {
    const run = cli;
    const table = await run(["runs"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/uninterrupted\s+finished/);
    expect(table.stdout).toMatch(/killed\s+finished/);
    const v1 = await run(["validate-pending", "--run", "uninterrupted", "--json", "--backend", "cpu"]);
    expect(v1.code, v1.stderr).toBe(0);
    const lines = v1.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => Number.isFinite(l.val_f1))).toBe(true);
    const v2 = await run(["validate-pending", "--run", "uninterrupted", "--backend", "cpu"]);
    expect(v2.stdout).toContain("nothing pending");
    expect(readFileSync(path.join(runsDir, "uninterrupted", "validation.csv"), "utf8").split("\n")[0]).toContain("val_f1");
  }, 300_000);

  it("cv trains every fold in its own child process", async () => {
    const r = await cli(["cv", "--config", cfgFile, "--parallel", "2", "--max_iters", "2", "--set", "data.folds=2", "--json", "--gpus", "0,1"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => [l.fold, l.code, l.steps])).toEqual([0, 1].map((f) => [f, 0, 2]));
    expect(new Set(lines.slice(0, 2).map((l) => l.run)).size).toBe(2);
    expect(lines[2]).toMatchObject({ folds: 2, ok: 2 });
  }, 300_000);

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
