/**
 * Out-of-fold embeddings: a matching run embeds its validation rows with every branch when it
 * finishes (`runs/<id>/oof/<branch>.f32`), and a cross-validation merges its folds' files into one
 * per branch that covers every posting exactly once (`runs/<cv id>/oof/<branch>.f32`), the input of
 * `matchlab match --runs` for tuning ensembles.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readEmbeddingsFile, runEmbeddingsFile, writeEmbeddingsFile } from "../retrieval/embedding_file";
import { loadCheckpoint, restoreWeights } from "./checkpoint";
import type { RunModel } from "./model";

/**
 * Embeds a run's validation rows with every branch and writes `<oofDir>/<branch>.f32` with sidecars
 * (posting ids, branch, fold, run, checkpoint). The weights are `best.ckpt` unless
 * `eval.oof_checkpoint` is last or there is no best checkpoint; the model keeps its own weights
 * afterwards. Returns the checkpoint used ("best.ckpt" or "last").
 */
export function writeOofEmbeddings(model: RunModel, run: string, checkpointsDir: string, oofDir: string): string {
  const best = path.join(checkpointsDir, "best.ckpt");
  const useBest = model.cfg.eval.oof_checkpoint === "best" && existsSync(best);
  const kept = useBest ? model.stateVariables().map((v) => tf.keep(v.variable.clone())) : [];
  if (useBest) restoreWeights(model.stateVariables(), loadCheckpoint(best), best);
  try {
    embedValidRows(model, run, oofDir, useBest ? "best.ckpt" : "last");
  } finally {
    model.stateVariables().forEach((v, i) => {
      if (kept[i]) v.variable.assign(kept[i]!);
    });
    tf.dispose(kept);
  }
  return useBest ? "best.ckpt" : "last";
}

function embedValidRows(model: RunModel, run: string, oofDir: string, used: string): void {
  const { valid } = model.split;
  const postingIds = Array.from(valid, (r) => model.data.ids[r]!);
  const fold = model.cfg.data.fold === "all" ? undefined : model.cfg.data.fold;
  for (const branch of model.net.branches) {
    const emb = model.embed(valid, branch);
    writeEmbeddingsFile(path.join(oofDir, `${branch}.f32`), emb, model.cfg.model.embedding_dim, { postingIds, name: `${run}:${branch}`, oof: true, branch, fold, run, checkpoint: used });
  }
}

/** What {@link mergeOofEmbeddings} wrote. */
export interface MergedOof {
  /** The branches merged (each written to `<outDir>/<branch>.f32`). */
  branches: string[];
  /** Postings covered, each exactly once. */
  rows: number;
  /** The fold runs merged, in order. */
  runs: string[];
}

/**
 * Merges the fold runs' out-of-fold files into one file per branch under `outDir`. Throws when a
 * posting appears in two folds, or (given `postingIds`, the dataset's) when one is in none.
 * @example mergeOofEmbeddings(["runs/q-f0-…", "runs/q-f1-…"], "runs/cv-q-…/oof", ds.listings.map((l) => l.postingId))
 */
export function mergeOofEmbeddings(runDirs: readonly string[], outDir: string, postingIds?: readonly string[], name = path.basename(path.dirname(outDir))): MergedOof {
  if (runDirs.length === 0) throw new Error("mergeOofEmbeddings: no runs to merge");
  const branchesOf = (d: string) => (existsSync(path.join(d, "oof")) ? readdirSync(path.join(d, "oof")).filter((f) => f.endsWith(".f32")).map((f) => f.replace(/\.f32$/, "")).sort() : []);
  const branches = branchesOf(runDirs[0]!);
  if (branches.length === 0) throw new Error(`mergeOofEmbeddings: ${runDirs[0]} has no oof/<branch>.f32 (only matching runs with validation rows write them)`);
  for (const d of runDirs) if (branchesOf(d).join() !== branches.join()) throw new Error(`mergeOofEmbeddings: ${d} has branches ${branchesOf(d).join("|") || "none"}, expected ${branches.join("|")} like ${runDirs[0]}`);
  let rows = 0;
  for (const branch of branches) {
    const files = runDirs.map((d) => readEmbeddingsFile(runEmbeddingsFile(d, ".", branch)));
    const dim = files[0]!.dim;
    const ids: string[] = [];
    const seen = new Map<string, string>();
    for (const f of files) {
      if (f.dim !== dim) throw new Error(`mergeOofEmbeddings: ${f.file} has dim ${f.dim}, expected ${dim}`);
      if (!f.postingIds) throw new Error(`mergeOofEmbeddings: ${f.file} has no posting ids in its sidecar`);
      for (const id of f.postingIds) {
        const other = seen.get(id);
        if (other !== undefined) throw new Error(`mergeOofEmbeddings: posting ${id} is in both ${other} and ${f.file} (folds must not overlap)`);
        seen.set(id, f.file);
        ids.push(id);
      }
    }
    if (postingIds) {
      const missing = postingIds.filter((id) => !seen.has(id));
      if (missing.length > 0) throw new Error(`mergeOofEmbeddings: ${missing.length} of ${postingIds.length} postings are in no fold's validation rows (e.g. ${missing.slice(0, 3).join(", ")}): train every fold`);
      if (ids.length !== postingIds.length) throw new Error(`mergeOofEmbeddings: the folds hold ${ids.length} postings, the dataset ${postingIds.length}`);
    }
    const data = new Float32Array(ids.length * dim);
    let at = 0;
    for (const f of files) {
      data.set(f.data, at);
      at += f.data.length;
    }
    writeEmbeddingsFile(path.join(outDir, `${branch}.f32`), data, dim, {
      postingIds: ids,
      name: `${name}:${branch}`,
      oof: true,
      branch,
      fold: files.map((f) => f.meta.fold as number),
      run: name,
      checkpoint: files.map((f) => `${f.meta.run}/${f.meta.checkpoint}`),
    });
    rows = ids.length;
  }
  return { branches, rows, runs: runDirs.map((d) => path.basename(d)) };
}
