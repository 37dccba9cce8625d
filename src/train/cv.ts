/**
 * Cross-validation records: every fold of one config trained (by `matchlab cv` in child processes,
 * or {@link crossValidate} in-process), its folds' runs listed in `runs/<cv id>/cv.json`, and, for
 * matching, the folds' out-of-fold embeddings merged into `runs/<cv id>/oof/<branch>.f32`, one row
 * per posting. A cv id is an ensemble member for `matchlab match --runs` and `matchlab predict`.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Dataset } from "../data/dataset";
import { env } from "../env";
import { type RunConfig, overrideConfig, runConfigYaml } from "./config";
import { readEmbeddingsFile, runEmbeddingsFile } from "../retrieval/embedding_file";
import { type MergedOof, mergeOofEmbeddings } from "./oof";
import { claimFolder, timeStamp, writeJsonAtomic } from "./registry";
import { loadRunDataset, type TrainRunLine, trainRun, trainRunLine } from "./run";
import { taskDef } from "./tasks/index";

/** The format tag of cv.json. */
export const CV_FORMAT = "matchlab-cv/1";

/** One fold of a cross-validation. */
export interface CvFold extends TrainRunLine {
  fold: number;
}

/** `runs/<cv id>/cv.json`. */
export interface CvRecord {
  format: typeof CV_FORMAT;
  /** The cv id (its folder under the runs folder). */
  id: string;
  task: string;
  /** The primary metric's name. */
  metric: string;
  /** The mean over folds of the best value of the primary metric. */
  mean_best: number | null;
  folds: CvFold[];
  /** The model trained on every row (`matchlab cv --all`), or null. */
  all: TrainRunLine | null;
  /** The merged out-of-fold embeddings (matching), or null. */
  oof: MergedOof | null;
  /** The config every fold trained (with data.fold of fold 0). */
  config: string;
  created: string;
}

/** A new cv id, `cv-<name>-s<seed>-<time>` (suffixed when taken), its folder claimed at once so two cvs never share one. */
export function newCvId(runsDir: string, cfg: RunConfig): string {
  return claimFolder(runsDir, `cv-${cfg.name}-s${cfg.seed}-${timeStamp()}`);
}

/**
 * Writes a cv's record from its folds' runs: merges their out-of-fold embeddings (matching) into
 * one file per branch covering every posting of the dataset exactly once, and writes cv.json.
 */
export function finishCv(runsDir: string, id: string, cfg: RunConfig, folds: readonly CvFold[], postingIds?: readonly string[], all: TrainRunLine | null = null): CvRecord {
  const def = taskDef(cfg.task);
  const dir = path.join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const sorted = [...folds].sort((a, b) => a.fold - b.fold);
  const oof = def.embeds ? mergeOofEmbeddings(sorted.map((f) => path.join(runsDir, f.run)), path.join(dir, "oof"), postingIds, id) : null;
  const bests = sorted.map((f) => f.best).filter((b): b is number => b !== null);
  const rec: CvRecord = { format: CV_FORMAT, id, task: cfg.task, metric: def.metric.name, mean_best: bests.length ? bests.reduce((a, b) => a + b, 0) / bests.length : null, folds: sorted, all, oof, config: runConfigYaml(cfg), created: new Date().toISOString() };
  writeJsonAtomic(path.join(dir, "cv.json"), rec);
  return rec;
}

/** Reads `runs/<id>/cv.json`, or null when `id` is not a cv. */
export function readCv(runsDir: string, id: string): CvRecord | null {
  const f = existsSync(path.join(id, "cv.json")) ? path.join(id, "cv.json") : path.join(runsDir, id, "cv.json");
  if (!existsSync(f)) return null;
  const rec = JSON.parse(readFileSync(f, "utf8")) as CvRecord;
  if (rec.format !== CV_FORMAT) throw new Error(`${f}: format is ${JSON.stringify(rec.format)}, expected "${CV_FORMAT}"`);
  return rec;
}

/** The runs behind a member id: a cv's fold runs (and, with `withAll`, its every-row model), or the run itself. */
export function memberRuns(runsDir: string, id: string, withAll = false): string[] {
  const cv = readCv(runsDir, id);
  if (!cv) return [id];
  if (withAll && !cv.all) throw new Error(`cv ${id} has no model trained on every row (train it with matchlab cv --all)`);
  return [...cv.folds.map((f) => f.run), ...(withAll ? [cv.all!.run] : [])];
}

/**
 * The validation fold of each posting in a cv (from its fold runs' out-of-fold files), in the order
 * of `postingIds`; -1 for a posting no fold validated. Tuning an ensemble over these folds keeps
 * each fold's gallery to the rows one fold model embedded.
 */
export function cvFoldAssignment(runsDir: string, id: string, postingIds: readonly string[]): Int32Array {
  const cv = readCv(runsDir, id);
  if (!cv) throw new Error(`${id} is not a cv (no cv.json under ${path.join(runsDir, id)})`);
  const at = new Map(postingIds.map((p, i) => [p, i]));
  const out = new Int32Array(postingIds.length).fill(-1);
  const branch = cv.oof?.branches[0];
  if (!branch) throw new Error(`cv ${id} has no out-of-fold embeddings (a classify cv, or one from an older matchlab)`);
  for (const f of cv.folds) {
    for (const p of readEmbeddingsFile(runEmbeddingsFile(f.run, runsDir, branch)).postingIds ?? []) {
      const i = at.get(p);
      if (i !== undefined) out[i] = f.fold;
    }
  }
  return out;
}

/** Options for {@link crossValidate}. */
export interface CrossValidateOptions {
  /** Where runs live. Defaults to `env.runsDir`. */
  runsDir?: string;
  /** An already loaded dataset. Defaults to loading data.dataset. */
  dataset?: Dataset;
  /** Progress bars. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** Where the runs' JSON log lines go. Defaults to nowhere. */
  log?: (line: string) => void;
}

/**
 * Trains every fold of a config one after the other in this process (the backend must be
 * initialised) and writes the cv record; `matchlab cv` does the same with child processes.
 * @example const cv = await crossValidate(loadConfig("configs/quick.yaml")); cv.oof?.rows
 */
export async function crossValidate(cfg: RunConfig, opts: CrossValidateOptions = {}): Promise<CvRecord> {
  const { runsDir = env.runsDir, progressBars = env.progress, log = () => {} } = opts;
  const ds = opts.dataset ?? (await loadRunDataset(cfg));
  const listings = cfg.data.limit > 0 ? ds.listings.slice(0, cfg.data.limit) : ds.listings;
  const id = newCvId(runsDir, cfg);
  const folds: CvFold[] = [];
  for (let f = 0; f < cfg.data.folds; f++) {
    const r = await trainRun(overrideConfig(cfg, "data.fold", { value: f }), { runsDir, dataset: ds, skipBackend: true, progressBars, log });
    folds.push({ fold: f, ...trainRunLine(r) });
  }
  return finishCv(runsDir, id, cfg, folds, listings.map((l) => l.postingId));
}
