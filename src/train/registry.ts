/**
 * The run registry: `runs/<id>/` holds config.yaml, metrics.csv (one row per epoch),
 * checkpoints/, summary.json, oof/<branch>.f32 (matching runs: the validation rows' embeddings), and
 * validated.json (checkpoints already validated by `matchlab validate-pending`). Everything is
 * written atomically.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { formatCsv, parseCsv } from "../data/csv";
import { CLASSIFY_METRICS } from "../metrics/classification";
import { ATOMIC_TEMP, FileError, makeDir, writeFileAtomic } from "../fs_atomic";
import { checkName } from "../names";
import type { Callback, Learner } from "./learner";
import type { TaskName } from "./tasks/index";

/** The metrics.csv columns every task writes first: position, time, LR factor and the train split's metrics. */
export const SHARED_METRICS_COLUMNS: readonly string[] = Object.freeze(["epoch", "step", "time_s", "lr_factor", ...CLASSIFY_METRICS.map((m) => `train_${m}`)]);

/** A run's summary.json: what, where, how far, and the task's primary metric by name. */
export interface RunSummary {
  run: string;
  task: TaskName;
  name: string;
  /** The validation fold, or all (trained on every row, no validation). */
  fold: number | "all";
  seed: number;
  /** Classes the heads learned (predict rebuilds the model with this many). */
  classes: number;
  /** `preempted`: stopped by a signal after a checkpoint (`train/signals.ts`), to be resumed; `diverged`: stopped on a non-finite loss, gradient or weights (`train/divergence.ts`), its last good checkpoint kept. */
  status: "running" | "finished" | "stopped" | "failed" | "preempted" | "diverged";
  stopReason: string;
  steps: number;
  epochs: number;
  /** The primary metric's name (e.g. val_f1 for match, val_macro_f1 for classify). */
  metric: string;
  /** Whether bigger is better for `metric`. */
  metric_mode: "max" | "min";
  /** `metric` of the model before training (null after a resume that did not measure it). */
  untrained: number | null;
  /** The best `metric` over validations (the one best.ckpt holds). */
  best: number | null;
  /** `metric` at the last validation. */
  final: number | null;
  weights_sha256: string | null;
  backend: string;
  seconds: number;
  updated: string;
  /** Where this invocation's time went (absent in summaries written before it was recorded, and in runs that did not finish). */
  timing?: RunTiming;
}

/** Where a run's time went, in seconds (summary.json `timing`; a resumed run's covers its last invocation). */
export interface RunTiming {
  /** Loading the dataset (image headers checked), decoding the images (through the cache), text features, the split, the model and the learner. */
  setup_s: number;
  /** Validating the untrained model (0 when it was not run, e.g. on a resume). */
  untrained_s: number;
  /** Training batches: making them (loading, augmenting), forward, backward, optimiser step, the callbacks after each. */
  train_s: number;
  /** Process CPU time of those batches (every thread: workers included). */
  train_cpu_s: number;
  /** Validations during training. */
  valid_s: number;
  /** Batches trained. */
  steps: number;
  /** Rows in those batches. */
  samples: number;
  /** samples / train_s (null when nothing trained). */
  samples_per_s: number | null;
}

/** Paths of a run folder. */
export function runPaths(runsDir: string, id: string) {
  const dir = path.join(runsDir, checkName("run id", id));
  return {
    dir,
    config: path.join(dir, "config.yaml"),
    metrics: path.join(dir, "metrics.csv"),
    checkpoints: path.join(dir, "checkpoints"),
    summary: path.join(dir, "summary.json"),
    validated: path.join(dir, "validated.json"),
    validation: path.join(dir, "validation.csv"),
    changes: path.join(dir, "config_changes.json"),
    oof: path.join(dir, "oof"),
  };
}

/** Writes a JSON file atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a run's summary, or null. */
export function readRunSummary(runsDir: string, id: string): RunSummary | null {
  const f = runPaths(runsDir, id).summary;
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as RunSummary) : null;
}

/** Reads metrics.csv rows as records of numbers. */
export function readMetricsCsv(file: string): Record<string, number>[] {
  if (!existsSync(file)) return [];
  const t = parseCsv(readFileSync(file, "utf8"), file);
  return t.rows.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r[i] === "" ? Number.NaN : Number(r[i])])));
}

/** Writes metrics.csv atomically with the given columns (missing values as empty cells). */
export function writeMetricsCsv(file: string, columns: readonly string[], rows: readonly Record<string, number>[]): void {
  const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "" : Number.isInteger(v) ? String(v) : v.toPrecision(6));
  writeFileAtomic(file, formatCsv(columns, rows.map((r) => columns.map((c) => fmt(r[c])))));
}

/** Options for {@link metricsCsvCallback}. */
export interface MetricsCsvOptions {
  /** The metrics.csv path. Required. */
  file: string;
  /** The columns, in order: {@link SHARED_METRICS_COLUMNS} then the task's. Required. */
  columns: readonly string[];
  /** Train metrics of the finished epoch (train_accuracy, …). Defaults to none. */
  trainMetrics?: () => Record<string, number>;
  /** Mean train loss of the finished epoch. Defaults to none. */
  trainLoss?: () => number;
  /** Clock in ms. Defaults to Date.now. */
  now?: () => number;
}

/** Writes one metrics.csv row per epoch (rewriting the file atomically; rows from a resumed epoch are replaced). */
export function metricsCsvCallback(opts: MetricsCsvOptions): Callback {
  const { file, columns, trainMetrics, trainLoss, now = Date.now } = opts;
  let t0 = 0;
  let elapsedBefore = 0;
  return {
    name: "metrics_csv",
    order: 15,
    beforeFit() {
      t0 = now();
    },
    afterEpoch(l: Learner) {
      const rows = readMetricsCsv(file).filter((r) => r.epoch! < l.epoch + 1);
      rows.push({
        epoch: l.epoch + 1,
        step: l.step,
        time_s: (elapsedBefore + now() - t0) / 1000,
        lr_factor: l.lrFactor,
        train_loss: trainLoss ? trainLoss() : Number.NaN,
        ...(trainMetrics ? trainMetrics() : {}),
        ...l.metrics,
      });
      writeMetricsCsv(file, columns, rows);
    },
    state: () => ({ elapsedMs: elapsedBefore + now() - t0 }),
    loadState(s) {
      elapsedBefore = (s as { elapsedMs: number }).elapsedMs;
    },
  };
}

/** Every run folder under `runsDir` with its summary (newest first). */
export function listRuns(runsDir: string): { id: string; summary: RunSummary | null; mtime: number }[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => existsSync(path.join(runsDir, d, "config.yaml")))
    .map((id) => ({ id, summary: readRunSummary(runsDir, id), mtime: statSync(path.join(runsDir, id)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
}

/** The time as `yyyymmddThhmmss` (UTC), for ids. */
export function timeStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
}

/** Creates `<parent>/<base>` (or `<base>-2`, `-3`, … when taken) at once, so two processes never share it; returns the name used. */
export function claimFolder(parent: string, base: string): string {
  checkName("id", base);
  makeDir(parent);
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    try {
      mkdirSync(path.join(parent, id));
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw FileError.from(e, path.join(parent, id), "create folder");
    }
  }
}

/** A new run id, `<name>-f<fold>-s<seed>-<yyyymmddThhmmss>` (suffixed when taken), its folder claimed at once. */
export function newRunId(runsDir: string, name: string, fold: number | "all", seed: number, date = new Date()): string {
  return claimFolder(runsDir, `${name}-f${fold}-s${seed}-${timeStamp(date)}`);
}

/** Creates a run folder (config unless null: a resumed run keeps its own, empty metrics.csv with `columns`, checkpoints/); removes temporary files a killed writer left behind. */
export function createRunDir(runsDir: string, id: string, configYaml: string | null, columns: readonly string[]): ReturnType<typeof runPaths> {
  const p = runPaths(runsDir, id);
  makeDir(p.checkpoints);
  for (const d of [p.dir, p.checkpoints]) for (const f of readdirSync(d)) if (ATOMIC_TEMP.test(f)) rmSync(path.join(d, f), { force: true });
  if (configYaml !== null) writeFileAtomic(p.config, configYaml);
  if (!existsSync(p.metrics)) writeMetricsCsv(p.metrics, columns, []);
  return p;
}
