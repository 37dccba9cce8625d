/**
 * `npm run bench -- train-run --smoke`: both recipes (quick, fast) through matchlab's run driver on
 * wasm at 1 and 2 threads, and the PyTorch twin when Debian's torch and PIL are there. Checks the
 * JSON lines' shape (no timed assertions), that the twin's trainable parameter count equals
 * matchlab's for each recipe, and that the bench leaves nothing in its temporary folder.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const CASES = ["quick", "fast"];

interface Line {
  bench: string;
  case: string;
  impl: string;
  threads?: number;
  skipped?: string;
  [k: string]: unknown;
}

/** Whether the peer can run here: /usr/bin/python3 with torch and PIL. */
function peerAvailable(): boolean {
  const r = spawnSync("/usr/bin/python3", ["-c", "import torch, PIL"], { encoding: "utf8" });
  return r.status === 0;
}

let tmp = "";
let status: number | null = null;
let stderr = "";
let lines: Line[] = [];
const withPeer = peerAvailable();

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "ml-bench-train-run-"));
  // spawned asynchronously: a minute-long spawnSync would starve vitest's worker RPC
  const child = spawn(process.execPath, ["--import", "tsx", path.join("bench", "train_run.ts"), "--smoke", "--threads", "2"], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  lines = stdout
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}, 900_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const ours = () => lines.filter((l) => l.impl === "wasm" || l.impl === "wasm-mt");
const peers = () => lines.filter((l) => l.impl === "pytorch");

describe("bench train-run --smoke", () => {
  it("exits 0 and prints one train-run line per case and impl", () => {
    expect(status, stderr).toBe(0);
    for (const l of lines) expect(l.bench).toBe("train-run");
    for (const c of CASES) {
      expect(ours().filter((l) => l.case === c).map((l) => l.impl).sort()).toEqual(["wasm", "wasm-mt"]);
    }
  });

  it("measures samples/s, ms per step, setup and validation for matchlab's runs (3 timed steps after 1 warm-up)", () => {
    for (const l of ours()) {
      expect(l.skipped, JSON.stringify(l)).toBeUndefined();
      expect(l).toMatchObject({ batch: 32, steps: 3, warmup: 1, samples: 96, rounds: 1 });
      for (const k of ["samples_per_s", "ms", "ms_median", "cpu_ms", "setup_ms", "untrained_ms", "valid_ms", "run_ms", "ms_min"]) {
        expect(typeof l[k], `${l.case}/${l.impl} ${k}`).toBe("number");
        expect(l[k] as number).toBeGreaterThan(0);
      }
      expect(l.ms_rounds).toHaveLength(1);
      expect(Number.isInteger(l.params) && (l.params as number) > 0).toBe(true);
      expect(typeof l.val_f1).toBe("number");
      expect(l.threads).toEqual(l.impl === "wasm" ? 1 : expect.any(Number));
    }
    // fast.yaml adds an image and a text head to quick.yaml's model
    const params = (c: string) => ours().find((l) => l.case === c)!.params as number;
    expect(params("fast")).toBeGreaterThan(params("quick"));
  });

  it.runIf(withPeer)("runs the PyTorch twin at 1 and 2 threads, with matchlab's parameter count, and gives ratios", () => {
    for (const c of CASES) {
      const ps = peers().filter((l) => l.case === c);
      expect(ps.map((l) => l.threads).sort()).toEqual([1, 2]);
      for (const p of ps) {
        expect(p.skipped, JSON.stringify(p)).toBeUndefined();
        expect(p).toMatchObject({ batch: 32, steps: 3, warmup: 1, samples: 96 });
        for (const k of ["samples_per_s", "ms", "setup_ms", "valid_ms"]) expect(p[k] as number, `${c}/pytorch ${k}`).toBeGreaterThan(0);
        expect(p.params).toBe(ours().find((l) => l.case === c)!.params);
        expect(p.params_mismatch).toBeUndefined();
      }
    }
    for (const l of ours()) {
      if (l.threads !== 1 && l.threads !== 2) continue;
      for (const k of ["ratio", "ratio_min", "setup_ratio", "valid_ratio"]) expect(l[k] as number, `${l.case}/${l.impl} ${k}`).toBeGreaterThan(0);
    }
  });

  it.runIf(!withPeer)("says the twin was skipped when torch or PIL is missing", () => {
    expect(peers().length).toBeGreaterThan(0);
    for (const p of peers()) expect(p.skipped).toMatch(/not importable/);
  });

  it("cleans up its temporary runs, caches and exports", () => {
    // (tsx keeps its compile cache there too)
    expect(readdirSync(tmp).filter((f) => !f.startsWith("tsx-"))).toEqual([]);
  });
});
