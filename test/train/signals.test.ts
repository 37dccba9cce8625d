/**
 * The time-limit signal without Slurm: `matchlab train` in a child process is sent SIGUSR2 after
 * its first periodic checkpoint; it must write a checkpoint at the next step boundary, mark the run
 * `preempted` and exit 75 (requeue me); `--resume` must then end with the same weights (SHA-256)
 * as an uninterrupted run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REQUEUE_EXIT_CODE } from "../../src/train/signals";
import { writeTinyDataset } from "./fixture";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "matchlab.js");
let work = "";
let cfgFile = "";

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-signal-"));
  await writeTinyDataset(path.join(work, "ds"), { groups: 16 });
  cfgFile = path.join(work, "tiny.yaml");
  writeFileSync(
    cfgFile,
    [
      "name: tiny",
      "seed: 7",
      "backend: wasm",
      `data: { dataset: ${JSON.stringify(path.join(work, "ds"))}, folds: 4, fold: 0, image_size: 8, augment: [{ horizontalFlip: { p: 0.5 } }] }`,
      "model: { image: { widths: [4, 8] }, text: { dim: 64 }, embedding_dim: 16, dropout: 0.1 }",
      "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }",
      "optim: { batch_size: 4, epochs: 3, lr: 0.01 }",
      "train: { ckpt_period: 2, log_period: 0, warmup_steps: 3, max_grad_norm: 1, gradient_accumulation_steps: 2 }",
      "match: { knn: 10 }",
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
    const child = spawn(process.execPath, [BIN, "train", "--config", cfgFile, "--runs-dir", path.join(work, "runs"), "--json", ...args], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1" } });
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

const events = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const summary = (run: string) => JSON.parse(readFileSync(path.join(work, "runs", run, "summary.json"), "utf8"));
const lastJson = (s: string) => JSON.parse(s.trim().split("\n").pop()!);

describe("matchlab train on SIGUSR2", () => {
  it("checkpoints at the next step boundary, exits 75, and resumes to the uninterrupted weights", async () => {
    const a = await train(["--run", "whole"]);
    expect(a.code, a.stderr).toBe(0);
    const whole = lastJson(a.stdout);

    let sentAt = -1;
    const b = await train(["--run", "signalled"], (line, child) => {
      if (sentAt >= 0 || !line.startsWith("{")) return;
      const ev = JSON.parse(line);
      if (ev.event === "checkpoint" && /^step-/.test(ev.file)) {
        sentAt = ev.step;
        child.kill("SIGUSR2");
      }
    });
    expect(b.signal, b.stderr).toBeNull();
    expect(b.code, b.stderr).toBe(REQUEUE_EXIT_CODE);
    const ev = events(b.stderr);
    expect(ev.some((e) => e.event === "signal" && e.signal === "SIGUSR2")).toBe(true);
    const pre = ev.find((e) => e.event === "preempted");
    expect(pre, b.stderr).toBeDefined();
    expect(pre.step).toBeGreaterThan(sentAt);
    expect(pre.step).toBeLessThan(whole.steps); // stopped mid-training
    expect(existsSync(path.join(work, "runs", "signalled", "checkpoints", pre.file))).toBe(true);
    expect(b.stderr).toContain(`(exit ${REQUEUE_EXIT_CODE}: requeue me)`);
    expect(summary("signalled")).toMatchObject({ status: "preempted", steps: pre.step, weights_sha256: null });

    const c = await train(["--run", "signalled", "--resume"]);
    expect(c.code, c.stderr).toBe(0);
    expect(events(c.stderr).find((e) => e.event === "resume")).toMatchObject({ file: pre.file, step: pre.step });
    const resumed = lastJson(c.stdout);
    expect(resumed.steps).toBe(whole.steps);
    expect(resumed.weights_sha256).toBe(whole.weights_sha256);
    expect(summary("signalled")).toMatchObject({ status: "finished", weights_sha256: whole.weights_sha256 });
  });
});
