/**
 * Trained runs applied to another dataset (an unlabelled test set): a run's model rebuilt from its
 * config.yaml and summary.json and restored from a checkpoint, and a member's embeddings of every
 * listing (a cv's fold models averaged, then L2-normalised).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Dataset } from "../data/dataset";
import { progress } from "../progress";
import { runDir } from "../retrieval/embedding_file";
import { latestCheckpoint, loadCheckpoint, restoreWeights } from "./checkpoint";
import { memberRuns } from "./cv";
import { decodeSize, type RunConfig } from "./config";
import { buildRunModel, type PreparedData, prepareData, type RunModel } from "./model";
import { readRunSummary, runPaths } from "./registry";
import { runConfig } from "./run";

/** Options for {@link loadRunModel}. */
export interface LoadRunModelOptions {
  /** best.ckpt (by the primary metric; a run without one, e.g. data.fold: all, uses its last) or the newest checkpoint. Defaults to "best". */
  checkpoint?: "best" | "last";
  /** Show a progress bar while decoding images. Defaults to false. */
  showProgress?: boolean;
  /** For a cv member: also average in its model trained on every row (`matchlab cv --all`). Defaults to false. */
  withAll?: boolean;
  /** Where the run's inputs over `ds` come from. Defaults to `prepareData(ds, cfg)`. */
  prepare?: (cfg: RunConfig) => Promise<PreparedData>;
}

/**
 * A run's model over the listings of `ds`, with the weights of one of its checkpoints; no labels
 * are needed (every row is an inference row). Dispose it when done.
 * @example const m = await loadRunModel("runs", "quick-f0-s0-…", testSet); m.embed(allRows, "fused");
 */
export async function loadRunModel(runsDir: string, id: string, ds: Dataset, opts: LoadRunModelOptions = {}): Promise<RunModel & { checkpoint: string }> {
  const { checkpoint = "best", showProgress = false, prepare = (c: RunConfig) => prepareData(ds, c, { showProgress }) } = opts;
  const dir = runDir(id, runsDir);
  const run = path.basename(dir);
  const base = path.dirname(dir);
  const cfg = runConfig(base, run);
  const summary = readRunSummary(base, run);
  if (!summary || !(summary.classes > 0)) throw new Error(`run ${id}: summary.json has no class count (train it to the end with this version of matchlab)`);
  const p = runPaths(base, run);
  const best = path.join(p.checkpoints, "best.ckpt");
  const file = checkpoint === "best" && existsSync(best) ? best : latestCheckpoint(p.checkpoints);
  if (!file) throw new Error(`run ${id}: no checkpoint in ${p.checkpoints}`);
  const n = ds.listings.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const split = { train: new Int32Array(0), valid: all, labels: new Int32Array(n), classOf: new Int32Array(n).fill(-1), numClasses: summary.classes, classNames: [] };
  const data = await prepare(cfg);
  const model = buildRunModel(cfg, data, split);
  try {
    restoreWeights(model.stateVariables(), loadCheckpoint(file), file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { ...model, checkpoint: path.basename(file) };
}

/** A member's embeddings of a dataset. */
export interface MemberEmbeddings {
  /** n × dim, L2-normalised rows in the dataset's order. */
  data: Float32Array;
  dim: number;
  /** The runs whose models were averaged. */
  runs: string[];
}

/**
 * Embeds every listing of `ds` with a member (a run id, or a cv id whose fold models are averaged),
 * on one branch, and L2-normalises the result.
 * @example const e = await embedWithMember("runs", "cv-quick-s0-…", testSet, "fused");
 */
export async function embedWithMember(runsDir: string, member: string, ds: Dataset, branch: string, opts: LoadRunModelOptions = {}): Promise<MemberEmbeddings> {
  const runs = memberRuns(runsDir, member, opts.withAll);
  const n = ds.listings.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  let sum: Float32Array | null = null;
  let dim = 0;
  // a cv's fold models share their inputs (their configs differ in data.fold only): prepare them once
  const prepared = new Map<string, Promise<PreparedData>>();
  const prepare = (cfg: RunConfig) => {
    const key = JSON.stringify([decodeSize(cfg), cfg.data.image_size, cfg.data.tags, cfg.model.input, cfg.model.encoders, cfg.model.image.encoder, cfg.model.text]);
    if (!prepared.has(key)) prepared.set(key, prepareData(ds, cfg, { showProgress: opts.showProgress }));
    return prepared.get(key)!;
  };
  const bar = progress({ label: `embed ${member} (${runs.length} model${runs.length > 1 ? "s" : ""})`, total: runs.length });
  for (const run of runs) {
    const model = await loadRunModel(runsDir, run, ds, { ...opts, prepare });
    try {
      if (!model.net.branches.includes(branch as never)) throw new Error(`run ${run} has no ${branch} branch (it has ${model.net.branches.join("|")})`);
      const e = model.embed(all, branch as never);
      dim = model.cfg.model.embedding_dim;
      if (sum && sum.length !== e.length) throw new Error(`run ${run}: embedding size ${dim} differs from the member's other runs`);
      sum ??= new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) sum[i]! += e[i]!;
    } finally {
      model.dispose();
    }
    bar.tick();
  }
  bar.finish();
  const data = sum!;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += data[i * dim + c]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < dim; c++) data[i * dim + c]! *= inv;
  }
  return { data, dim, runs };
}
