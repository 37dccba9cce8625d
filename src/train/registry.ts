/**
 * The run registry: `runs/<id>/` holds config.yaml, metrics.csv (one row per epoch),
 * checkpoints/, summary.json, and validated.json (checkpoints already validated by
 * `matchlab validate-pending`). Everything is written atomically.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { formatCsv, parseCsv } from "../data/csv";
import { writeAtomic } from "./checkpoint";
import type { Callback, Learner } from "./learner";

/** The metrics.csv columns, in order. */
export const METRICS_COLUMNS: readonly string[] = Object.freeze([
  "epoch",
  "step",
  "time_s",
  "lr_factor",
  "train_loss",
  "train_accuracy",
  "train_top5",
  "train_macro_precision",
  "train_macro_recall",
  "train_macro_f1",
  "train_micro_precision",
  "train_micro_recall",
  "train_micro_f1",
  "val_loss",
  "val_accuracy",
  "val_top5",
  "val_macro_precision",
  "val_macro_recall",
  "val_macro_f1",
  "val_micro_precision",
  "val_micro_recall",
  "val_micro_f1",
  "val_f1",
  "val_threshold",
]);

/** A run's summary.json. */
export interface RunSummary {
  run: string;
  /** The task; absent means "match" (runs written before classification runs existed). */
  task?: "match" | "classify";
  /** Classification runs: best validation accuracy and macro F1 over epochs. */
  best_val_accuracy?: number | null;
  best_val_macro_f1?: number | null;
  name: string;
  fold: number;
  seed: number;
  status: "running" | "finished" | "stopped" | "failed";
  stopReason: string;
  steps: number;
  epochs: number;
  untrained_val_f1: number | null;
  best_val_f1: number | null;
  final_val_f1: number | null;
  weights_sha256: string | null;
  backend: string;
  seconds: number;
  updated: string;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Paths of a run folder. */
export function runPaths(runsDir: string, id: string) {
  const dir = path.join(runsDir, id);
  return {
    dir,
    config: path.join(dir, "config.yaml"),
    metrics: path.join(dir, "metrics.csv"),
    checkpoints: path.join(dir, "checkpoints"),
    summary: path.join(dir, "summary.json"),
    validated: path.join(dir, "validated.json"),
    validation: path.join(dir, "validation.csv"),
  };
}

/** Writes a JSON file atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeAtomic(file, [text(`${JSON.stringify(value, null, 2)}\n`)]);
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

/** Writes metrics.csv atomically. */
export function writeMetricsCsv(file: string, rows: readonly Record<string, number>[]): void {
  const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "" : Number.isInteger(v) ? String(v) : v.toPrecision(6));
  writeAtomic(file, [text(formatCsv(METRICS_COLUMNS, rows.map((r) => METRICS_COLUMNS.map((c) => fmt(r[c])))))]);
}

/** Options for {@link metricsCsvCallback}. */
export interface MetricsCsvOptions {
  /** The metrics.csv path. Required. */
  file: string;
  /** Train metrics of the finished epoch (train_accuracy, …). Defaults to none. */
  trainMetrics?: () => Record<string, number>;
  /** Mean train loss of the finished epoch. Defaults to none. */
  trainLoss?: () => number;
  /** Clock in ms. Defaults to Date.now. */
  now?: () => number;
}

/** Writes one metrics.csv row per epoch (rewriting the file atomically; rows from a resumed epoch are replaced). */
export function metricsCsvCallback(opts: MetricsCsvOptions): Callback {
  const { file, trainMetrics, trainLoss, now = Date.now } = opts;
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
      writeMetricsCsv(file, rows);
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

/** A new run id: `<name>-f<fold>-s<seed>-<yyyymmddThhmmss>` (suffixed when taken). */
export function newRunId(runsDir: string, name: string, fold: number, seed: number, date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const base = `${name}-f${fold}-s${seed}-${stamp}`;
  let id = base;
  for (let i = 2; existsSync(path.join(runsDir, id)); i++) id = `${base}-${i}`;
  return id;
}

/** Creates a run folder (config, empty metrics, checkpoints/); removes temporary files a killed writer left behind. */
export function createRunDir(runsDir: string, id: string, configYaml: string): ReturnType<typeof runPaths> {
  const p = runPaths(runsDir, id);
  mkdirSync(p.checkpoints, { recursive: true });
  for (const d of [p.dir, p.checkpoints]) for (const f of readdirSync(d)) if (/\.tmp-\d+-\d+$/.test(f)) rmSync(path.join(d, f), { force: true });
  writeAtomic(p.config, [text(configYaml)]);
  if (!existsSync(p.metrics)) writeMetricsCsv(p.metrics, []);
  return p;
}
