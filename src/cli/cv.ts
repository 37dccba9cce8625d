/**
 * `matchlab cv --config X [--parallel N]`: trains every fold of a config, any task, each in its
 * own child process (`matchlab train --fold k --json`), N at a time, then writes the cv record
 * `runs/<cv id>/cv.json` and, for matching, merges the folds' out-of-fold embeddings into
 * `runs/<cv id>/oof/<branch>.f32` (every posting exactly once). With GPUs listed (--gpus or
 * $CUDA_VISIBLE_DEVICES) each child gets one via CUDA_VISIBLE_DEVICES, as
 * `torch.distributed.launch --nproc_per_node` would. With `--slurm` the folds go to Slurm as one
 * job array instead (`train/slurm.ts`); `--status <job>` follows it and, once every task is done,
 * writes the same cv record.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { env } from "../env";
import { checkName } from "../names";
import { writeFileAtomic } from "../fs_atomic";
import { loadDataset } from "../data/dataset";
import { loadConfig, type RunConfig, runConfigYaml } from "../train/config";
import { type CvFold, type CvRecord, finishCv, newCvId, readCv } from "../train/cv";
import { DIVERGED_EXIT_CODE } from "../train/divergence";
import { readRunSummary, timeStamp } from "../train/registry";
import { datasetPath, loadRunDataset } from "../train/run";
import type { TrainRunLine } from "../train/run";
import { findSubmission, SLURM_FORMAT, SLURM_SUBDIR, type SlurmTask, sbatchScript, slurmTaskViews, slurmUnavailable, submitSbatch, taskLog, writeSubmission } from "../train/slurm";
import { taskDef } from "../train/tasks/index";
import { applyOverrides, CONFIG_FLAG_KEYS, type Command, configFlags, f4, type FlagSpec, formatTable, intFlag, type Parsed, parseFlags, passFlags, required, SLURM_FLAGS, slurmOptions, slurmTaskTable, stringFlag, UsageError } from "./common";

const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "the run config (YAML), any task" },
  parallel: { type: "string", help: "folds trained at once", default: "1" },
  gpus: { type: "string", help: "comma-separated GPU ids, one per child in turn (default: $CUDA_VISIBLE_DEVICES)" },
  json: { type: "boolean", help: "print one JSON line per fold and one for the mean" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  id: { type: "string", help: "the cv id (its folder under the runs folder; default: cv-<name>-s<seed>-<time>)" },
  all: { type: "boolean", help: "also train one model on every row (data.fold: all), recorded in cv.json; matchlab predict --with-all adds it to the fold models" },
  ...configFlags(["fold"]),
  ...SLURM_FLAGS,
};

/** One fold's child result. */
export interface FoldResult {
  /** The fold trained (`all`: every row, no validation). */
  fold: number | "all";
  code: number;
  /** What the fold's `matchlab train --json` printed, or null when it failed. */
  result: TrainRunLine | null;
}

/** A fold's status word: ok, diverged (exit 3: non-finite loss, its last good checkpoint kept), or the exit status. */
export function foldStatus(code: number): string {
  return code === 0 ? "ok" : code === DIVERGED_EXIT_CODE ? "diverged" : `exit ${code}`;
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
    if (p.values.status !== undefined) return await cvStatus(p);
    const config = required(p, "config");
    const cfg = applyOverrides(loadConfig(config), p);
    if (p.values.slurm || p.values["dry-run"]) return submitCvSlurm(p, cfg);
    const metric = taskDef(cfg.task).metric.name;
    const parallel = intFlag(p, "parallel", 1);
    if (parallel < 1) throw new UsageError(`--parallel must be >= 1, got ${parallel}`);
    const gpus = (stringFlag(p, "gpus") ?? process.env.CUDA_VISIBLE_DEVICES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const extra = passFlags(p, [...Object.keys(CONFIG_FLAG_KEYS).filter((k) => k !== "fold"), "set", "runs-dir"]);
    const runsDir = stringFlag(p, "runs-dir") ?? env.runsDir;
    const given = stringFlag(p, "id");
    if (given !== undefined) {
      checkName("--id", given);
      if (existsSync(path.join(runsDir, given))) throw new UsageError(`cv ${given} already exists in ${runsDir} (choose another --id, or remove that folder)`);
      mkdirSync(path.join(runsDir, given), { recursive: true });
    }
    const id = given ?? newCvId(runsDir, cfg);
    const res = await runFolds({ config, folds: cfg.data.folds, withAll: p.values.all === true, parallel, extra, gpus, onLine: (f, l) => process.stderr.write(`[fold ${f}] ${l}\n`) });
    const ok = res.filter((r) => r.code === 0 && r.result);
    let cv: CvRecord | null = null;
    if (ok.length === res.length) {
      const folds = res.filter((r) => r.fold !== "all").map((r) => ({ fold: r.fold as number, ...r.result! }));
      const all = res.find((r) => r.fold === "all")?.result ?? null;
      cv = await writeCvRecord(runsDir, id, cfg, folds, all);
    } else {
      const bad = res.filter((r) => !(r.code === 0 && r.result));
      process.stderr.write(`cv: ${bad.length} of ${res.length} folds failed (${bad.map((r) => `fold ${r.fold}: ${foldStatus(r.code)}`).join(", ")}); no cv record written\n`);
    }
    const okFolds = ok.filter((r) => r.fold !== "all"); // the every-row model has no validation
    const mean = (k: "best" | "untrained") => okFolds.reduce((a, r) => a + (r.result![k] ?? 0), 0) / Math.max(1, okFolds.length);
    if (p.values.json) {
      for (const r of res) console.log(JSON.stringify({ fold: r.fold, code: r.code, status: foldStatus(r.code), ...r.result }));
      console.log(JSON.stringify({ cv: cv?.id ?? null, task: cfg.task, metric, folds: cfg.data.folds, ok: okFolds.length, all: cv?.all?.run ?? null, mean_best: mean("best"), mean_untrained: mean("untrained"), oof_rows: cv?.oof?.rows ?? null }));
    } else {
      const rows = res.map((r) => [String(r.fold), foldStatus(r.code), r.result?.run ?? "-", f4(r.result?.best), f4(r.result?.untrained), String(r.result?.steps ?? "-")]);
      console.log(formatTable(["fold", "status", "run", `best_${metric}`, `untrained_${metric}`, "steps"], rows));
      console.log(`mean best ${metric} ${mean("best").toFixed(4)} over ${okFolds.length}/${cfg.data.folds} folds`);
    }
    return ok.length === res.length ? 0 : 1;
  },
};

/** Writes the cv record (merging the folds' OOF embeddings over the dataset's postings) and says where. */
async function writeCvRecord(runsDir: string, id: string, cfg: RunConfig, folds: CvFold[], all: TrainRunLine | null): Promise<CvRecord> {
  // with data.on_bad_row skip the folds dropped the bad rows: the record covers the same postings
  const ds = cfg.data.on_bad_row === "skip" ? await loadRunDataset(cfg) : await loadDataset(datasetPath(cfg), { checkImages: false, minGroupSize: 1 });
  const listings = cfg.data.limit > 0 ? ds.listings.slice(0, cfg.data.limit) : ds.listings;
  const cv = finishCv(runsDir, id, cfg, folds, listings.map((l) => l.postingId), all);
  const oof = cv.oof ? `; out-of-fold embeddings of all ${cv.oof.rows} postings, each exactly once, branches ${cv.oof.branches.join("|")} in ${path.join(runsDir, id, "oof")}` : "";
  process.stderr.write(`cv ${id}: ${folds.length + (all ? 1 : 0)} folds${oof}\n`);
  return cv;
}

/** `cv --slurm`: one sbatch job array, a task per fold (and one for --all), each `matchlab train` with a fixed run id. */
function submitCvSlurm(p: Parsed, cfg: RunConfig): number {
  const dry = p.values["dry-run"] === true;
  if (!p.values.slurm) throw new UsageError("--dry-run goes with --slurm (it prints the batch script instead of submitting it)");
  if (!dry) {
    const why = slurmUnavailable();
    if (why) throw new UsageError(`--slurm: no Slurm here: ${why}; run without --slurm to train the folds on this machine`);
  }
  for (const k of ["parallel", "gpus"]) if (p.values[k] !== undefined && !(k === "parallel" && p.values[k] === "1")) throw new UsageError(`--${k} is for local cv; with --slurm use --array-limit and --gpus-per-task/--gres`);
  const runsDir = path.resolve(stringFlag(p, "runs-dir") ?? env.runsDir);
  const given = stringFlag(p, "id");
  if (given !== undefined) checkName("--id", given);
  if (given !== undefined && !dry && existsSync(path.join(runsDir, given))) throw new UsageError(`cv ${given} already exists in ${runsDir} (choose another --id, or remove that folder)`);
  if (given !== undefined && !dry) mkdirSync(path.join(runsDir, given), { recursive: true });
  const id = given ?? (dry ? `cv-${cfg.name}-s${cfg.seed}-${timeStamp()}` : newCvId(runsDir, cfg));
  const dir = path.join(runsDir, id);
  const logs = path.join(dir, SLURM_SUBDIR);
  const cfgFile = path.join(logs, "config.yaml");
  const folds: Array<number | "all"> = [...Array.from({ length: cfg.data.folds }, (_, f) => f), ...(p.values.all === true ? ["all" as const] : [])];
  const tasks: SlurmTask[] = folds.map((fold, index) => {
    const run = `${id}-${fold === "all" ? "all" : `f${fold}`}`;
    return { index, fold, run, args: ["--config", cfgFile, "--fold", String(fold), "--run", run, "--runs-dir", runsDir, "--json"] };
  });
  const slurm = slurmOptions(p);
  const script = sbatchScript({ name: id, origin: "matchlab cv --slurm", root: env.root, node: process.execPath, bin: path.join(env.root, "bin", "matchlab.js"), logs, runsDir, tasks, slurm });
  if (dry) {
    process.stdout.write(script);
    return 0;
  }
  mkdirSync(logs, { recursive: true });
  writeFileAtomic(cfgFile, runConfigYaml(cfg));
  const scriptFile = path.join(logs, "job.sbatch");
  writeFileAtomic(scriptFile, script);
  const job = submitSbatch(scriptFile);
  const withLogs = tasks.map((t) => ({ ...t, log: taskLog(logs, t.index) }));
  writeSubmission(dir, { format: SLURM_FORMAT, kind: "cv", id, job, runsDir, script: scriptFile, logs, tasks: withLogs, submitted: new Date().toISOString() });
  if (p.values.json) console.log(JSON.stringify({ job, cv: id, tasks: withLogs.map((t) => ({ task: t.index, fold: t.fold, run: t.run, log: t.log })), script: scriptFile }));
  else {
    const cap = slurm.arrayLimit ? `, at most ${slurm.arrayLimit} at once` : "";
    console.log(`submitted job ${job}: cv ${id}, ${tasks.length} array tasks (task k trains fold k${p.values.all ? `, task ${tasks.length - 1} every row` : ""})${cap}`);
    console.log(`script ${scriptFile}\nlogs   ${path.join(logs, "task-<k>.out")}\nruns   ${path.join(runsDir, `${id}-f<k>`)}`);
    console.log(`follow it with: matchlab cv --status ${job}   (or --status ${id}; add --wait to block until done)`);
  }
  return 0;
}

/** `cv --status <job|id>`: each array task's Slurm state beside its run; the cv record once all are done. */
async function cvStatus(p: Parsed): Promise<number> {
  const ref = stringFlag(p, "status")!;
  const runsDir = path.resolve(stringFlag(p, "runs-dir") ?? env.runsDir);
  const found = findSubmission(runsDir, ref);
  if (!found) throw new UsageError(`--status ${ref}: no Slurm submission with that job id or cv id under ${runsDir} (submit one with matchlab cv --slurm)`);
  const { dir, sub } = found;
  if (sub.kind !== "cv") throw new UsageError(`--status ${ref}: job ${sub.job} is a ${sub.kind} (use matchlab ${sub.kind} --status ${ref})`);
  const pollMs = 1000 * Number(process.env.MATCHLAB_SLURM_POLL_S ?? 5);
  let views = slurmTaskViews(sub);
  while (p.values.wait === true && !views.every((v) => v.done || v.failed)) {
    await new Promise((r) => setTimeout(r, pollMs));
    views = slurmTaskViews(sub);
  }
  const done = views.filter((v) => v.done).length;
  const failed = views.filter((v) => v.failed);
  let cv: CvRecord | null = readCv(runsDir, sub.id);
  if (!cv && done === views.length) {
    const cfg = loadConfig(path.join(sub.logs, "config.yaml"));
    const line = (run: string): TrainRunLine => {
      const s = readRunSummary(runsDir, run)!;
      return { run, task: s.task, metric: s.metric, untrained: s.untrained, best: s.best, final: s.final, steps: s.steps, weights_sha256: s.weights_sha256 ?? "" };
    };
    const folds = sub.tasks.filter((t) => t.fold !== "all").map((t) => ({ fold: t.fold as number, ...line(t.run) }));
    const all = sub.tasks.find((t) => t.fold === "all");
    cv = await writeCvRecord(runsDir, sub.id, cfg, folds, all ? line(all.run) : null);
  }
  if (p.values.json) {
    for (const v of views) console.log(JSON.stringify(v));
    console.log(JSON.stringify({ job: sub.job, cv: sub.id, tasks: views.length, done, failed: failed.length, mean_best: cv?.mean_best ?? null, oof_rows: cv?.oof?.rows ?? null, record: cv ? path.join(dir, "cv.json") : null }));
  } else {
    console.log(slurmTaskTable(views, env.root));
    if (cv) console.log(`cv ${sub.id}: all ${views.length} tasks done; mean best ${cv.metric} ${f4(cv.mean_best)}; record ${path.join(dir, "cv.json")}${cv.oof ? `; OOF embeddings of ${cv.oof.rows} postings in ${path.join(dir, "oof")}` : ""}`);
    else console.log(`cv ${sub.id} (job ${sub.job}): ${done} of ${views.length} tasks done${failed.length ? `, ${failed.length} failed (see their logs)` : ""}`);
  }
  return failed.length > 0 ? 1 : 0;
}
