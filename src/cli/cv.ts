/**
 * `matchlab cv --config X [--parallel N]`: trains every fold of a config, any task, each in its
 * own child process (`matchlab train --fold k --json`), N at a time, then writes the cv record
 * `runs/<cv id>/cv.json` and, for matching, merges the folds' out-of-fold embeddings into
 * `runs/<cv id>/oof/<branch>.f32` (every posting exactly once). With GPUs listed (--gpus or
 * $CUDA_VISIBLE_DEVICES) each child gets one via CUDA_VISIBLE_DEVICES, as
 * `torch.distributed.launch --nproc_per_node` would.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { env } from "../env";
import { loadDataset } from "../data/dataset";
import { loadConfig } from "../train/config";
import { type CvRecord, finishCv, newCvId } from "../train/cv";
import { datasetPath } from "../train/run";
import type { TrainRunLine } from "../train/run";
import { taskDef } from "../train/tasks/index";
import { applyOverrides, CONFIG_FLAG_KEYS, type Command, configFlags, f4, type FlagSpec, formatTable, intFlag, parseFlags, passFlags, required, stringFlag } from "./common";

const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "the run config (YAML), any task" },
  parallel: { type: "string", help: "folds trained at once", default: "1" },
  gpus: { type: "string", help: "comma-separated GPU ids, one per child in turn (default: $CUDA_VISIBLE_DEVICES)" },
  json: { type: "boolean", help: "print one JSON line per fold and one for the mean" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  id: { type: "string", help: "the cv id (its folder under the runs folder; default: cv-<name>-s<seed>-<time>)" },
  all: { type: "boolean", help: "also train one model on every row (data.fold: all), recorded in cv.json; matchlab predict --with-all adds it to the fold models" },
  ...configFlags(["fold"]),
};

/** One fold's child result. */
export interface FoldResult {
  /** The fold trained (`all`: every row, no validation). */
  fold: number | "all";
  code: number;
  /** What the fold's `matchlab train --json` printed, or null when it failed. */
  result: TrainRunLine | null;
}

/** Runs `matchlab train` for each fold (0..folds-1, then `all` with `withAll`) in child processes, `parallel` at a time. */
export async function runFolds(args: { config: string; folds: number; withAll?: boolean; parallel: number; extra: string[]; gpus: string[]; onLine?: (fold: number | "all", line: string) => void }): Promise<FoldResult[]> {
  const bin = path.join(env.root, "bin", "matchlab.js");
  const results: FoldResult[] = [];
  let next = 0;
  let slot = 0;
  const todo: Array<number | "all"> = [...Array.from({ length: args.folds }, (_, f) => f), ...(args.withAll ? ["all" as const] : [])];
  const one = (fold: number | "all", gpu: string | undefined) =>
    new Promise<FoldResult>((resolve) => {
      const childEnv = { ...process.env, MATCHLAB_QUIET: "1", ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) };
      const child = spawn(process.execPath, [bin, "train", "--config", args.config, "--fold", String(fold), "--json", ...args.extra], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => {
        for (const l of String(d).split("\n").filter(Boolean)) args.onLine?.(fold, l);
      });
      child.on("close", (code) => {
        let result: TrainRunLine | null = null;
        try {
          result = JSON.parse(out.trim().split("\n").pop() ?? "");
        } catch {
          result = null;
        }
        resolve({ fold, code: code ?? 1, result });
      });
    });
  await Promise.all(
    Array.from({ length: Math.min(args.parallel, todo.length) }, async () => {
      while (next < todo.length) {
        const fold = todo[next++]!;
        const gpu = args.gpus.length ? args.gpus[slot++ % args.gpus.length] : undefined;
        results.push(await one(fold, gpu));
      }
    }),
  );
  const order = (f: number | "all") => (f === "all" ? Number.POSITIVE_INFINITY : f);
  return results.sort((a, b) => order(a.fold) - order(b.fold));
}

export const command: Command = {
  summary: "train every fold of a config, any task, in child processes (--parallel N; one GPU each when GPUs are listed)",
  async run(argv) {
    const p = parseFlags("cv", this.summary, FLAGS, argv);
    if (!p) return 0;
    const config = required(p, "config");
    const cfg = applyOverrides(loadConfig(config), p);
    const metric = taskDef(cfg.task).metric.name;
    const parallel = intFlag(p, "parallel", 1);
    if (parallel < 1) throw new Error(`--parallel must be >= 1, got ${parallel}`);
    const gpus = (stringFlag(p, "gpus") ?? process.env.CUDA_VISIBLE_DEVICES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const extra = passFlags(p, [...Object.keys(CONFIG_FLAG_KEYS).filter((k) => k !== "fold"), "set", "runs-dir"]);
    const runsDir = stringFlag(p, "runs-dir") ?? env.runsDir;
    const given = stringFlag(p, "id");
    if (given !== undefined) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.=-]*$/.test(given)) throw new Error(`--id ${JSON.stringify(given)}: use letters, digits and _.=- (it names a folder under ${runsDir})`);
      if (existsSync(path.join(runsDir, given))) throw new Error(`cv ${given} already exists in ${runsDir} (choose another --id, or remove that folder)`);
      mkdirSync(path.join(runsDir, given), { recursive: true });
    }
    const id = given ?? newCvId(runsDir, cfg);
    const res = await runFolds({ config, folds: cfg.data.folds, withAll: p.values.all === true, parallel, extra, gpus, onLine: (f, l) => process.stderr.write(`[fold ${f}] ${l}\n`) });
    const ok = res.filter((r) => r.code === 0 && r.result);
    let cv: CvRecord | null = null;
    if (ok.length === res.length) {
      const ds = await loadDataset(datasetPath(cfg), { checkImages: false, minGroupSize: 1 });
      const listings = cfg.data.limit > 0 ? ds.listings.slice(0, cfg.data.limit) : ds.listings;
      const folds = res.filter((r) => r.fold !== "all").map((r) => ({ fold: r.fold as number, ...r.result! }));
      const all = res.find((r) => r.fold === "all")?.result ?? null;
      cv = finishCv(runsDir, id, cfg, folds, listings.map((l) => l.postingId), all);
      const oof = cv.oof ? `; out-of-fold embeddings of all ${cv.oof.rows} postings, each exactly once, branches ${cv.oof.branches.join("|")} in ${path.join(runsDir, id, "oof")}` : "";
      process.stderr.write(`cv ${id}: ${res.length} folds${oof}\n`);
    } else process.stderr.write(`cv: ${res.length - ok.length} of ${res.length} folds failed; no cv record written\n`);
    const okFolds = ok.filter((r) => r.fold !== "all"); // the every-row model has no validation
    const mean = (k: "best" | "untrained") => okFolds.reduce((a, r) => a + (r.result![k] ?? 0), 0) / Math.max(1, okFolds.length);
    if (p.values.json) {
      for (const r of res) console.log(JSON.stringify({ fold: r.fold, code: r.code, ...r.result }));
      console.log(JSON.stringify({ cv: cv?.id ?? null, task: cfg.task, metric, folds: cfg.data.folds, ok: okFolds.length, all: cv?.all?.run ?? null, mean_best: mean("best"), mean_untrained: mean("untrained"), oof_rows: cv?.oof?.rows ?? null }));
    } else {
      const rows = res.map((r) => [String(r.fold), r.code === 0 ? "ok" : `exit ${r.code}`, r.result?.run ?? "-", f4(r.result?.best), f4(r.result?.untrained), String(r.result?.steps ?? "-")]);
      console.log(formatTable(["fold", "status", "run", `best_${metric}`, `untrained_${metric}`, "steps"], rows));
      console.log(`mean best ${metric} ${mean("best").toFixed(4)} over ${okFolds.length}/${cfg.data.folds} folds`);
    }
    return ok.length === res.length ? 0 : 1;
  },
};
