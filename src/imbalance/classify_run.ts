/**
 * `trainClassifyRun`: one classification run in the run registry, as `matchlab train --task
 * classify` uses it: load the dataset, encode the label column, take one stratified fold, train
 * the classifier on the shared Learner loop, and write runs/<id>/{config.yaml, metrics.csv,
 * summary.json} so `matchlab runs` lists it beside the matching runs.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import yaml from "js-yaml";
import { writeFileAtomicSync } from "../data/csv";
import { type Dataset, loadDataset } from "../data/dataset";
import { env } from "../env";
import { stratifiedKFold } from "../folds/stratified_kfold";
import { newRunId, type RunSummary, runPaths, writeJsonAtomic } from "../train/registry";
import { encodeClassLabels } from "./classify";
import { type ClassifyConfig, classifierOptions } from "./config";
import { classifierTokens, loadImageBytes } from "./features";
import { type ClassifierResult, trainClassifier } from "./trainer";

/** Options for {@link trainClassifyRun}. */
export interface ClassifyRunOptions {
  /** Run id. Defaults to a new `<name>-f<fold>-s<seed>-<time>`. */
  runId?: string;
  /** Where runs live. Defaults to `env.runsDir`. */
  runsDir?: string;
  /** An already loaded dataset (else data.dataset, or env.dataset when that is empty). Defaults to none. */
  dataset?: Dataset;
  /** Show progress bars. Defaults to `env.progress`. */
  showProgress?: boolean;
  /** Called with each epoch's metrics.csv row. Defaults to none. */
  onEpoch?: (row: Record<string, number>) => void;
}

/** What {@link trainClassifyRun} returns (the `--json` line's fields, plus the trainer's result). */
export interface ClassifyRunResult {
  run: string;
  dir: string;
  task: "classify";
  label: string;
  classes: number;
  rows: number;
  best_val_accuracy: number;
  best_val_macro_f1: number;
  final_val_accuracy: number;
  final_val_macro_f1: number;
  steps: number;
  weights_sha256: string;
  seconds: number;
  result: ClassifierResult;
}

/**
 * Trains fold `data.fold` of a classification config and registers it under runs/<id>/.
 * @example const r = await trainClassifyRun(loadStudyConfig("configs/classify.yaml").base); r.best_val_macro_f1;
 */
export async function trainClassifyRun(cfg: ClassifyConfig, opts: ClassifyRunOptions = {}): Promise<ClassifyRunResult> {
  const { runsDir = env.runsDir, showProgress = env.progress, onEpoch } = opts;
  const t0 = Date.now();
  const ds = opts.dataset ?? (await loadDataset(cfg.data.dataset ? path.resolve(env.root, cfg.data.dataset) : env.dataset, { checkImages: "exists", limit: cfg.data.limit || undefined }));
  const listings = cfg.data.limit > 0 ? ds.listings.slice(0, cfg.data.limit) : ds.listings;
  const enc = encodeClassLabels(listings, cfg.data.label);
  if (enc.names.length < 2) throw new Error(`label column ${cfg.data.label}: only ${enc.names.length} class (${enc.names.join("")}); a classifier needs at least 2`);
  const split = stratifiedKFold(enc.codes, { k: cfg.data.folds, shuffle: true, seed: cfg.data.fold_seed });
  const fold = split.folds[cfg.data.fold];
  if (!fold) throw new Error(`data.fold ${cfg.data.fold} does not exist (data.folds ${cfg.data.folds})`);
  const id = opts.runId ?? newRunId(runsDir, cfg.name, cfg.data.fold, cfg.seed);
  const p = runPaths(runsDir, id);
  if (existsSync(p.summary)) throw new Error(`run ${id} already exists in ${runsDir}; choose another --run`);
  mkdirSync(p.dir, { recursive: true });
  writeFileAtomicSync(p.config, yaml.dump(cfg, { lineWidth: 120, noRefs: true }));
  const images = cfg.model.image ? await loadImageBytes({ ...ds, listings }, { size: cfg.data.image_size, showProgress }) : null;
  const inputs = {
    images,
    tokens: classifierTokens(listings, { withTags: cfg.data.tags, vocab: cfg.data.vocab, maxLen: cfg.data.max_len }),
    maxLen: cfg.data.max_len,
    vocab: cfg.data.vocab,
    labels: enc.codes,
    numClasses: enc.names.length,
  };
  const summary = (status: RunSummary["status"], extra: Partial<RunSummary> & Record<string, unknown> = {}): RunSummary & Record<string, unknown> => ({
    run: id,
    task: "classify",
    name: cfg.name,
    fold: cfg.data.fold,
    seed: cfg.seed,
    status,
    stopReason: "",
    steps: 0,
    epochs: 0,
    untrained_val_f1: null,
    best_val_f1: null,
    final_val_f1: null,
    weights_sha256: null,
    backend: tf.getBackend(),
    seconds: (Date.now() - t0) / 1000,
    updated: new Date().toISOString(),
    label: cfg.data.label,
    classes: enc.names.length,
    rows: listings.length,
    train_rows: fold.train.length,
    valid_rows: fold.valid.length,
    ...extra,
  });
  writeJsonAtomic(p.summary, summary("running"));
  let result: ClassifierResult;
  try {
    // trainClassifier rewrites metrics.csv each epoch and writes its own summary.json at the end;
    // the registry's summary below (a superset: steps, params, val) replaces that one.
    result = await trainClassifier(inputs, fold.train, fold.valid, { ...classifierOptions(cfg), runDir: p.dir, showProgress, onEpoch });
  } catch (e) {
    writeJsonAtomic(p.summary, summary("failed", { stopReason: e instanceof Error ? e.message : String(e) }));
    throw e;
  }
  const best = (k: string) => Math.max(...result.history.map((h) => h[k]!));
  const last = result.history[result.history.length - 1]!;
  const out: ClassifyRunResult = {
    run: id,
    dir: p.dir,
    task: "classify",
    label: cfg.data.label,
    classes: enc.names.length,
    rows: listings.length,
    best_val_accuracy: best("val_accuracy"),
    best_val_macro_f1: best("val_macro_f1"),
    final_val_accuracy: last.val_accuracy!,
    final_val_macro_f1: last.val_macro_f1!,
    steps: result.steps,
    weights_sha256: result.weightsSha256,
    seconds: (Date.now() - t0) / 1000,
    result,
  };
  writeJsonAtomic(
    p.summary,
    summary("finished", {
      steps: result.steps,
      epochs: result.history.length,
      // the registry's F1 columns carry the classifier's validation macro F1 for this task
      best_val_f1: out.best_val_macro_f1,
      final_val_f1: out.final_val_macro_f1,
      best_val_accuracy: out.best_val_accuracy,
      best_val_macro_f1: out.best_val_macro_f1,
      weights_sha256: result.weightsSha256,
      params: result.params,
      val: result.val,
      class_names: enc.names,
    }),
  );
  return out;
}
