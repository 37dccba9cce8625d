/**
 * Grid studies over folds, for any task: every combination of the config's `grid` values (the
 * "arms") is trained on every fold through the one run driver, each (arm, fold) a run in the
 * study's folder (a runs folder: `matchlab runs --runs-dir <dir>` lists them). The result is one row
 * per (arm, fold) and mean ± std per arm of the task's study metrics, written as results.csv and
 * summary.csv beside study.yaml.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { formatCsv } from "../data/csv";
import { writeFileAtomic } from "../fs_atomic";
import type { Dataset } from "../data/dataset";
import { env } from "../env";
import { configToYaml, overrideConfig, type RunConfig } from "./config";
import { claimFolder, timeStamp } from "./registry";
import { loadRunDataset, type TrainRunResult, trainRun } from "./run";
import { taskDef } from "./tasks/index";

/** A grid value. */
export type GridValue = string | number | boolean;

/** One arm of a study: a name, the grid values that define it, and its full config. */
export interface StudyArm {
  /** e.g. "fusion.kind=concat tags=false" (the key's last two path segments). */
  name: string;
  /** Dotted grid key → value. */
  values: Record<string, GridValue>;
  config: RunConfig;
}

/** The short name of a dotted key in arm names: its last segment, or the last two when the last is generic (kind). */
function shortKey(key: string): string {
  const parts = key.split(".");
  return parts.length > 1 && parts[parts.length - 1] === "kind" ? parts.slice(-2).join(".") : parts[parts.length - 1]!;
}

/**
 * Every combination of the grid's values (the first key varies slowest); one arm named "base" for
 * an empty grid. Each arm's config has no grid.
 * @example studyArms(loadConfig("configs/study.yaml")).map((a) => a.name)
 */
export function studyArms(cfg: RunConfig): StudyArm[] {
  let arms: StudyArm[] = [{ name: "", values: {}, config: { ...cfg, grid: {} } }];
  for (const [key, vs] of Object.entries(cfg.grid)) {
    arms = arms.flatMap((a) =>
      (vs as GridValue[]).map((v) => ({
        name: `${a.name}${a.name ? " " : ""}${shortKey(key)}=${String(v)}`,
        values: { ...a.values, [key]: v },
        config: overrideConfig(a.config, key, { value: v }, `grid.${key}`),
      })),
    );
  }
  if (arms.length === 1 && arms[0]!.name === "") arms[0]!.name = "base";
  return arms;
}

/** One (arm, fold) result. */
export interface StudyResultRow {
  arm: string;
  fold: number;
  /** Grid values of the arm. */
  values: Record<string, GridValue>;
  /** The run's id (a folder in the study's folder). */
  run: string;
  /** The run's final validation metrics. */
  metrics: Record<string, number>;
  steps: number;
  seconds: number;
}

/** Mean and standard deviation of one metric of one arm. */
export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator, as pandas); NaN for one fold. */
  std: number;
}

/** One arm's summary. */
export interface StudySummaryRow {
  arm: string;
  values: Record<string, GridValue>;
  folds: number;
  metrics: Record<string, MeanStd>;
  seconds: number;
}

/** Mean and sample standard deviation (ddof = 1; NaN for fewer than two values). */
export function meanStd(xs: readonly number[]): MeanStd {
  if (xs.length === 0) throw new Error("meanStd: no values");
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, std: Number.NaN };
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/**
 * Summarises (arm, fold) rows into mean ± std per arm of `metrics`, in first-seen arm order.
 * Throws when an arm has the same fold twice.
 * @example summarizeStudy(results, ["val_macro_f1"]).map((s) => [s.arm, s.metrics.val_macro_f1.mean])
 */
export function summarizeStudy(rows: readonly StudyResultRow[], metrics: readonly string[]): StudySummaryRow[] {
  const byArm = new Map<string, StudyResultRow[]>();
  for (const r of rows) {
    const list = byArm.get(r.arm) ?? [];
    if (list.some((x) => x.fold === r.fold)) throw new Error(`summarizeStudy: arm '${r.arm}' has fold ${r.fold} twice`);
    list.push(r);
    byArm.set(r.arm, list);
  }
  return [...byArm.entries()].map(([arm, list]) => ({
    arm,
    values: list[0]!.values,
    folds: list.length,
    metrics: Object.fromEntries(metrics.map((m) => [m, meanStd(list.map((r) => r.metrics[m] ?? Number.NaN))])),
    seconds: list.reduce((a, r) => a + r.seconds, 0),
  }));
}

/** Formats mean ± std with `digits` decimals ("0.812 ± 0.013"; "0.812" for one fold). */
export function formatMeanStd(m: MeanStd, digits = 3): string {
  return Number.isNaN(m.std) ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/** Options for {@link runStudy}. */
export interface RunStudyOptions {
  /** Folds trained: the first N of data.folds (0 = all). Defaults to 0. */
  runFolds?: number;
  /** The study's folder (runs, results.csv, summary.csv, study.yaml). Defaults to `<env.runsDir>/study-<name>-<time>`. */
  outDir?: string;
  /** An already loaded dataset (else data.dataset is loaded). Defaults to none. */
  dataset?: Dataset;
  /** Called after each (arm, fold). Defaults to none. */
  onResult?: (row: StudyResultRow, run: TrainRunResult) => void;
  /** Progress bars. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** Where the runs' JSON log lines go. Defaults to nowhere. */
  log?: (line: string) => void;
}

/** What {@link runStudy} returns. */
export interface StudyOutcome {
  arms: StudyArm[];
  results: StudyResultRow[];
  summary: StudySummaryRow[];
  /** The metrics summarised (the task's study metrics, primary first). */
  metrics: readonly string[];
  /** The study's folder. */
  dir: string;
  /** Listings used. */
  rows: number;
}

/** A run id for an (arm, fold): the arm name with path-unsafe characters replaced. */
export function studyRunId(arm: string, fold: number): string {
  return `${arm.replace(/[^A-Za-z0-9_=.-]+/g, "_")}-fold${fold}`;
}

/**
 * Trains every arm on every fold (the task's folds, shuffled with data.fold_seed) and writes
 * results.csv, summary.csv and study.yaml to the study's folder. The backend must be initialised.
 * @example const out = await runStudy(loadConfig("configs/study.yaml"), { runFolds: 2 });
 */
export async function runStudy(cfg: RunConfig, opts: RunStudyOptions = {}): Promise<StudyOutcome> {
  const { runFolds = 0, progressBars = env.progress, onResult, log = () => {} } = opts;
  if (!Number.isInteger(runFolds) || runFolds < 0) throw new Error(`runStudy: runFolds must be an integer >= 0, got ${runFolds}`);
  const def = taskDef(cfg.task);
  const ds = opts.dataset ?? (await loadRunDataset(cfg));
  const folds = runFolds > 0 ? Math.min(runFolds, cfg.data.folds) : cfg.data.folds;
  const arms = studyArms(cfg);
  const dir = opts.outDir ?? path.join(env.runsDir, claimFolder(env.runsDir, `study-${cfg.name}-${timeStamp().replace("T", "-")}`));
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, "study.yaml"), configToYaml(cfg));
  const metrics = def.studyMetrics;
  const results: StudyResultRow[] = [];
  const writeResults = () => writeStudyResults(dir, cfg, results);
  for (const arm of arms) {
    for (let f = 0; f < folds; f++) {
      const run = await trainRun(overrideConfig(arm.config, "data.fold", { value: f }), { runsDir: dir, runId: studyRunId(arm.name, f), dataset: ds, skipBackend: true, progressBars, log });
      const row: StudyResultRow = { arm: arm.name, fold: f, values: arm.values, run: run.run, metrics: { ...run.learner.metrics }, steps: run.steps, seconds: run.seconds };
      results.push(row);
      writeResults();
      onResult?.(row, run);
    }
  }
  const summary = writeStudySummary(dir, cfg, results);
  const listings = cfg.data.limit > 0 ? Math.min(cfg.data.limit, ds.listings.length) : ds.listings.length;
  return { arms, results, summary, metrics, dir, rows: listings };
}

/** Writes a study's results.csv: one row per (arm, fold) with the task's study metrics. */
export function writeStudyResults(dir: string, cfg: RunConfig, results: readonly StudyResultRow[]): void {
  const gridKeys = Object.keys(cfg.grid);
  const metrics = taskDef(cfg.task).studyMetrics;
  const header = ["arm", ...gridKeys, "fold", "run", ...metrics, "steps", "seconds"];
  const rows = results.map((r) => [r.arm, ...gridKeys.map((g) => String(r.values[g])), r.fold, r.run, ...metrics.map((m) => r.metrics[m] ?? ""), r.steps, r.seconds]);
  writeFileAtomic(path.join(dir, "results.csv"), formatCsv(header, rows));
}

/** Summarises a study's results (mean ± std per arm) and writes summary.csv. */
export function writeStudySummary(dir: string, cfg: RunConfig, results: readonly StudyResultRow[]): StudySummaryRow[] {
  const gridKeys = Object.keys(cfg.grid);
  const metrics = taskDef(cfg.task).studyMetrics;
  const summary = summarizeStudy(results, metrics);
  const header = ["arm", ...gridKeys, "folds", ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`]), "seconds"];
  writeFileAtomic(path.join(dir, "summary.csv"), formatCsv(header, summary.map((s) => [s.arm, ...gridKeys.map((g) => String(s.values[g])), s.folds, ...metrics.flatMap((m) => [s.metrics[m]!.mean, s.metrics[m]!.std]), s.seconds])));
  return summary;
}
