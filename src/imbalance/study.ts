/**
 * Grid studies over folds: every combination of the grid's values (the "arms") is trained on
 * every fold; the result is one row per (arm, fold) and a summary with mean ± std per arm. The 2×2
 * of the issue is `grid: {model.fusion: [concat, transformer], data.tags: [false, true]}`.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DataFrame } from "danfojs-node";
import yaml from "js-yaml";
import { formatCsv, writeFileAtomicSync } from "../data/csv";
import { type Dataset, loadDataset } from "../data/dataset";
import { env } from "../env";
import { stratifiedKFold } from "../folds/stratified_kfold";
import { encodeClassLabels } from "./classify";
import { type ClassifyConfig, classifierOptions, type StudyConfig, withConfigValue } from "./config";
import { classifierTokens, type ImageBytes, loadImageBytes } from "./features";
import { type ClassifierResult, trainClassifier } from "./trainer";

/** One arm of a study: a name, the grid values that define it, and its full config. */
export interface StudyArm {
  /** e.g. "fusion=concat tags=false". */
  name: string;
  /** Grid key (last path segment) → value. */
  values: Record<string, string | number | boolean>;
  config: ClassifyConfig;
}

/**
 * Every combination of the grid's values (the first key varies slowest); one arm named "base" for
 * an empty grid.
 * @example studyArms(loadStudyConfig("configs/study.yaml")).map((a) => a.name)
 */
export function studyArms(study: StudyConfig): StudyArm[] {
  let arms: StudyArm[] = [{ name: "", values: {}, config: study.base }];
  for (const [key, vs] of study.grid) {
    const short = key.split(".").pop()!;
    arms = arms.flatMap((a) =>
      vs.map((v) => ({
        name: `${a.name}${a.name ? " " : ""}${short}=${String(v)}`,
        values: { ...a.values, [short]: v },
        config: withConfigValue(a.config, key, v, `grid.${key}`),
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
  /** Grid values of the arm (also as columns). */
  values: Record<string, string | number | boolean>;
  accuracy: number;
  top5: number;
  macro_f1: number;
  micro_f1: number;
  macro_precision: number;
  macro_recall: number;
  val_loss: number;
  steps: number;
  seconds: number;
}

/** The metrics summarised per arm. */
export const STUDY_METRICS = Object.freeze(["accuracy", "macro_f1", "top5", "micro_f1", "macro_recall"] as const);

/** Mean and standard deviation of one metric of one arm. */
export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator, as pandas); NaN for one fold. */
  std: number;
}

/** One arm's summary. */
export interface StudySummaryRow {
  arm: string;
  values: Record<string, string | number | boolean>;
  folds: number;
  metrics: Record<(typeof STUDY_METRICS)[number], MeanStd>;
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
 * Summarises (arm, fold) rows into mean ± std per arm, in first-seen arm order. Throws when an
 * arm has the same fold twice.
 * @example summarizeStudy(results).map((s) => [s.arm, s.metrics.macro_f1.mean])
 */
export function summarizeStudy(rows: readonly StudyResultRow[]): StudySummaryRow[] {
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
    metrics: Object.fromEntries(STUDY_METRICS.map((m) => [m, meanStd(list.map((r) => r[m]))])) as StudySummaryRow["metrics"],
    seconds: list.reduce((a, r) => a + r.seconds, 0),
  }));
}

/** Formats mean ± std with `digits` decimals ("0.812 ± 0.013"; "0.812" for one fold). */
export function formatMeanStd(m: MeanStd, digits = 3): string {
  return Number.isNaN(m.std) ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/**
 * The summary as a danfo DataFrame: the grid columns, folds, then "mean ± std" text per metric.
 * @example table(studyTable(summarizeStudy(rows)))
 */
export function studyTable(summary: readonly StudySummaryRow[], digits = 3): DataFrame {
  if (summary.length === 0) throw new Error("studyTable: no arms");
  const keys = Object.keys(summary[0]!.values);
  const cols: Record<string, Array<string | number>> = {};
  if (keys.length === 0) cols.arm = summary.map((s) => s.arm);
  for (const k of keys) cols[k] = summary.map((s) => String(s.values[k]));
  cols.folds = summary.map((s) => s.folds);
  for (const m of STUDY_METRICS) cols[m] = summary.map((s) => formatMeanStd(s.metrics[m], digits));
  return new DataFrame(cols);
}

/** Options for {@link runStudy}. */
export interface RunStudyOptions {
  /** Override data.folds (folds trained = this many). Defaults to the config's. */
  folds?: number;
  /** Where results go: `<runsDir>/study-<name>-<time>/`; null writes nothing. Defaults to a new folder under env.runsDir. */
  outDir?: string | null;
  /** An already loaded dataset (else data.dataset or env.dataset is loaded). Defaults to none. */
  dataset?: Dataset;
  /** Called after each (arm, fold). Defaults to none. */
  onResult?: (row: StudyResultRow, result: ClassifierResult) => void;
  /** Progress bars. Defaults to env.progress. */
  showProgress?: boolean;
}

/** What {@link runStudy} returns. */
export interface StudyOutcome {
  arms: StudyArm[];
  results: StudyResultRow[];
  summary: StudySummaryRow[];
  /** The output folder (null when nothing was written). */
  dir: string | null;
  /** Classes and rows used. */
  classes: number;
  rows: number;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
}

/**
 * Runs every arm on every fold (stratified by the label, shuffled with data.fold_seed) and writes
 * `results.csv`, `summary.csv`, `study.yaml` and each run's `metrics.csv` to the output folder.
 * @example const out = await runStudy(loadStudyConfig("configs/study.yaml"), { folds: 3 });
 */
export async function runStudy(study: StudyConfig, opts: RunStudyOptions = {}): Promise<StudyOutcome> {
  const { showProgress = env.progress, onResult } = opts;
  const base = study.base;
  const k = opts.folds ?? base.data.folds;
  if (!Number.isInteger(k) || k < 2) throw new Error(`runStudy: folds must be an integer >= 2, got ${k}`);
  const ds = opts.dataset ?? (await loadDataset(base.data.dataset ? path.resolve(env.root, base.data.dataset) : env.dataset, { checkImages: "exists", limit: base.data.limit || undefined }));
  const listings = base.data.limit > 0 ? ds.listings.slice(0, base.data.limit) : ds.listings;
  const enc = encodeClassLabels(listings, base.data.label);
  const split = stratifiedKFold(enc.codes, {
    k,
    shuffle: true,
    seed: base.data.fold_seed,
  });
  const runFolds = base.data.run_folds > 0 ? Math.min(base.data.run_folds, k) : k;
  const arms = studyArms(study);
  const needImages = arms.some((a) => a.config.model.image);
  const sizes = [...new Set(arms.map((a) => a.config.data.image_size))];
  const images = new Map<number, ImageBytes>();
  if (needImages) {
    for (const s of sizes) {
      const all = await loadImageBytes({ ...ds, listings }, { size: s, showProgress });
      images.set(s, all);
    }
  }
  const dir = opts.outDir === null ? null : (opts.outDir ?? path.join(env.runsDir, `study-${base.name}-${stamp()}`));
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(path.join(dir, "study.yaml"), yaml.dump({ ...base, grid: Object.fromEntries(study.grid) }, { lineWidth: 120 }));
  }
  const gridKeys = arms.length > 0 ? Object.keys(arms[0]!.values) : [];
  const results: StudyResultRow[] = [];
  const writeResults = () => {
    if (!dir) return;
    const header = ["arm", ...gridKeys, "fold", "accuracy", "top5", "macro_f1", "micro_f1", "macro_precision", "macro_recall", "val_loss", "steps", "seconds"];
    writeFileAtomicSync(
      path.join(dir, "results.csv"),
      formatCsv(
        header,
        results.map((r) => [r.arm, ...gridKeys.map((g) => String(r.values[g])), r.fold, r.accuracy, r.top5, r.macro_f1, r.micro_f1, r.macro_precision, r.macro_recall, r.val_loss, r.steps, r.seconds]),
      ),
    );
  };
  for (const arm of arms) {
    const c = arm.config;
    const tokens = classifierTokens(listings, {
      withTags: c.data.tags,
      vocab: c.data.vocab,
      maxLen: c.data.max_len,
    });
    const inputs = {
      images: c.model.image ? images.get(c.data.image_size)! : null,
      tokens,
      maxLen: c.data.max_len,
      vocab: c.data.vocab,
      labels: enc.codes,
      numClasses: enc.names.length,
    };
    for (let f = 0; f < runFolds; f++) {
      const fold = split.folds[f]!;
      const slug = `${arm.name.replace(/[^A-Za-z0-9_=.-]+/g, "_")}-fold${f}`;
      const res = await trainClassifier(inputs, fold.train, fold.valid, {
        ...classifierOptions(c),
        runDir: dir ? path.join(dir, slug) : null,
        showProgress,
      });
      const row: StudyResultRow = {
        arm: arm.name,
        fold: f,
        values: arm.values,
        accuracy: res.val.accuracy,
        top5: res.val.top5,
        macro_f1: res.val.macro_f1,
        micro_f1: res.val.micro_f1,
        macro_precision: res.val.macro_precision,
        macro_recall: res.val.macro_recall,
        val_loss: res.val.loss,
        steps: res.steps,
        seconds: res.seconds,
      };
      results.push(row);
      writeResults();
      onResult?.(row, res);
    }
  }
  const summary = summarizeStudy(results);
  if (dir) {
    const header = ["arm", ...gridKeys, "folds", ...STUDY_METRICS.flatMap((m) => [`${m}_mean`, `${m}_std`]), "seconds"];
    writeFileAtomicSync(
      path.join(dir, "summary.csv"),
      formatCsv(
        header,
        summary.map((s) => [s.arm, ...gridKeys.map((g) => String(s.values[g])), s.folds, ...STUDY_METRICS.flatMap((m) => [s.metrics[m].mean, s.metrics[m].std]), s.seconds]),
      ),
    );
  }
  return {
    arms,
    results,
    summary,
    dir,
    classes: enc.names.length,
    rows: listings.length,
  };
}
