/**
 * `matchlab cv --config X [--parallel N]`: trains every fold, each in its own child process
 * (`matchlab train --fold k --json`), N at a time. With GPUs listed (--gpus or
 * $CUDA_VISIBLE_DEVICES) each child gets one via CUDA_VISIBLE_DEVICES, as
 * `torch.distributed.launch --nproc_per_node` would.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { env } from "../env";
import { loadConfig, overrideConfig } from "../train/config";
import { type FlagSpec, intFlag, parseFlags, required } from "./args";
import type { Command } from "./main";
import { formatRunsTable } from "./runs";
import { TRAIN_FLAG_KEYS } from "./train";

const PASS = Object.keys(TRAIN_FLAG_KEYS).filter((k) => k !== "fold");
const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "the run config (YAML)" },
  parallel: { type: "string", help: "folds trained at once", default: "1" },
  gpus: { type: "string", help: "comma-separated GPU ids, one per child in turn (default: $CUDA_VISIBLE_DEVICES)" },
  json: { type: "boolean", help: "print one JSON line per fold and one for the mean" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  set: { type: "string", help: "passed to each train: key=value[,…]" },
  ...Object.fromEntries(PASS.map((k) => [k, { type: k === "evaluate_during_training" ? "boolean" : "string", help: `passed to each train (overrides ${TRAIN_FLAG_KEYS[k]})` } satisfies FlagSpec])),
};

/** One fold's child result. */
export interface FoldResult {
  fold: number;
  code: number;
  result: { run: string; best_val_f1: number | null; untrained_val_f1: number | null; steps: number; weights_sha256: string } | null;
}

/** Runs `matchlab train` for each fold in child processes, `parallel` at a time. */
export async function runFolds(args: { config: string; folds: number; parallel: number; extra: string[]; gpus: string[]; onLine?: (fold: number, line: string) => void }): Promise<FoldResult[]> {
  const bin = path.join(env.root, "bin", "matchlab.js");
  const results: FoldResult[] = [];
  let next = 0;
  let slot = 0;
  const one = (fold: number, gpu: string | undefined) =>
    new Promise<FoldResult>((resolve) => {
      const childEnv = { ...process.env, MATCHLAB_QUIET: "1", ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) };
      const child = spawn(process.execPath, [bin, "train", "--config", args.config, "--fold", String(fold), "--json", ...args.extra], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => {
        for (const l of String(d).split("\n").filter(Boolean)) args.onLine?.(fold, l);
      });
      child.on("close", (code) => {
        const last = out.trim().split("\n").pop() ?? "";
        let result: FoldResult["result"] = null;
        try {
          result = JSON.parse(last);
        } catch {
          result = null;
        }
        resolve({ fold, code: code ?? 1, result });
      });
    });
  await Promise.all(
    Array.from({ length: Math.min(args.parallel, args.folds) }, async () => {
      while (next < args.folds) {
        const fold = next++;
        const gpu = args.gpus.length ? args.gpus[slot++ % args.gpus.length] : undefined;
        results.push(await one(fold, gpu));
      }
    }),
  );
  return results.sort((a, b) => a.fold - b.fold);
}

export const command: Command = {
  summary: "train every fold of a config in child processes (--parallel N; one GPU each when GPUs are listed)",
  async run(argv) {
    const p = parseFlags("cv", this.summary, FLAGS, argv);
    if (!p) return 0;
    const config = required(p, "config");
    const cfg = loadConfig(config);
    if (typeof p.values.set === "string") {
      for (const kv of p.values.set.split(",")) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new Error(`--set: expected key=value, got ${JSON.stringify(kv)}`);
        overrideConfig(cfg, kv.slice(0, eq).trim(), kv.slice(eq + 1).trim(), "--set");
      }
    }
    const parallel = intFlag(p, "parallel", 1);
    if (parallel < 1) throw new Error(`--parallel must be >= 1, got ${parallel}`);
    const gpuText = typeof p.values.gpus === "string" ? p.values.gpus : (process.env.CUDA_VISIBLE_DEVICES ?? "");
    const gpus = gpuText.split(",").map((s) => s.trim()).filter(Boolean);
    const extra: string[] = [];
    for (const k of [...PASS, "set", "runs-dir"]) {
      if (typeof p.values[k] === "string") extra.push(`--${k}`, p.values[k] as string);
      else if (p.values[k] === true) extra.push(`--${k}`);
    }
    const res = await runFolds({ config, folds: cfg.data.folds, parallel, extra, gpus, onLine: (f, l) => process.stderr.write(`[fold ${f}] ${l}\n`) });
    const ok = res.filter((r) => r.code === 0 && r.result);
    const mean = (k: "best_val_f1" | "untrained_val_f1") => ok.reduce((a, r) => a + (r.result![k] ?? 0), 0) / Math.max(1, ok.length);
    if (p.values.json) {
      for (const r of res) console.log(JSON.stringify({ fold: r.fold, code: r.code, ...r.result }));
      console.log(JSON.stringify({ folds: res.length, ok: ok.length, mean_best_val_f1: mean("best_val_f1"), mean_untrained_val_f1: mean("untrained_val_f1") }));
    } else {
      const rows = res.map((r) => [String(r.fold), r.code === 0 ? "ok" : `exit ${r.code}`, r.result?.run ?? "-", r.result?.best_val_f1?.toFixed(4) ?? "-", r.result?.untrained_val_f1?.toFixed(4) ?? "-", String(r.result?.steps ?? "-")]);
      console.log(formatRunsTable(["fold", "status", "run", "best_f1", "untrained_f1", "steps"], rows));
      console.log(`mean best val F1 ${mean("best_val_f1").toFixed(4)} over ${ok.length}/${res.length} folds`);
    }
    return ok.length === res.length ? 0 : 1;
  },
};
