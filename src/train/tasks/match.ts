/**
 * The matching task (Shopee-style product matching): the heads learn the label groups of the
 * training folds; validation groups are never seen in training, and validation scores how well the
 * embeddings of the validation rows find each other: mean per-posting matching F1 at the best
 * cosine-distance threshold (primary), leave-one-out kNN classification and an NCA-style loss.
 */
import type { Section } from "../../config";
import { labelCodes } from "../../data/dataset";
import { groupKFold } from "../../folds/group_kfold";
import { CLASSIFY_METRICS, precisionRecallF1 } from "../../metrics/classification";
import { knnSearch } from "../../retrieval/knn";
import { bestThreshold } from "../../retrieval/thresholds";
import { assertFiniteOutputs } from "../divergence";
import { foldRows, type TaskDef, type TaskSplit } from "./types";

const section: Section = Object.freeze({
  knn: { type: "int", default: 50, min: 2, doc: "neighbours per posting when validating" },
});

/** The matching task's row of the task table. */
export const matchTask: TaskDef = Object.freeze<TaskDef>({
  name: "match",
  summary: "groups of listings that are the same product; validation groups are unseen, scored by mean per-posting F1",
  section,
  metric: Object.freeze({ name: "val_f1", mode: "max" as const }),
  columns: Object.freeze([...CLASSIFY_METRICS.map((m) => `val_${m}`), "val_f1", "val_distance_threshold"]),
  embeds: true,
  studyMetrics: Object.freeze(["val_f1", "val_accuracy", "val_top5", "val_macro_f1"]),

  split(listings, cfg): TaskSplit {
    const labels = labelCodes(listings).codes;
    const fold = foldRows(groupKFold(labels, { k: cfg.data.folds, shuffle: true, seed: cfg.data.fold_seed }), cfg, listings.length);
    // the heads learn the training groups only, numbered in order of first appearance
    const trainListings = Array.from(fold.train, (r) => listings[r]!);
    const heads = labelCodes(trainListings);
    const classOf = new Int32Array(listings.length).fill(-1);
    fold.train.forEach((r, i) => {
      classOf[r] = heads.codes[i]!;
    });
    return { train: fold.train, valid: fold.valid, labels, classOf, numClasses: heads.names.length, classNames: heads.names };
  },

  async validate(model, split, cfg) {
    const D = cfg.model.embedding_dim;
    const { valid } = split;
    const emb = model.embed(valid, cfg.eval.branch);
    assertFiniteOutputs(emb, `validation embeddings (${cfg.eval.branch} branch)`);
    const labels = Int32Array.from(valid, (r) => split.labels[r]!);
    const nv = valid.length;
    const nb = await knnSearch(emb, D, { k: Math.min(cfg.match.knn, nv), engine: "js", label: null });
    const best = bestThreshold(nb, labels);
    // leave-one-out kNN classification (validation groups are unseen by the heads) and NCA loss
    const pred = new Int32Array(nv);
    let top5 = 0;
    let nca = 0;
    let ncaN = 0;
    for (let i = 0; i < nv; i++) {
      const seen: number[] = [];
      pred[i] = -1;
      for (let t = 0; t < nb.k; t++) {
        const j = nb.indices[i * nb.k + t]!;
        if (j < 0 || j === i) continue;
        if (pred[i] === -1) pred[i] = labels[j]!;
        if (seen.length < 5 && !seen.includes(labels[j]!)) seen.push(labels[j]!);
      }
      if (seen.includes(labels[i]!)) top5++;
      let num = 0;
      let den = 0;
      for (let j = 0; j < nv; j++) {
        if (j === i) continue;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += emb[i * D + d]! * emb[j * D + d]!;
        const e = Math.exp(16 * (dot - 1));
        den += e;
        if (labels[j] === labels[i]) num += e;
      }
      if (num > 0) {
        nca -= Math.log(num / den);
        ncaN++;
      }
    }
    const prf = precisionRecallF1(labels, pred);
    let correct = 0;
    for (let i = 0; i < nv; i++) if (pred[i] === labels[i]) correct++;
    return {
      val_loss: ncaN ? nca / ncaN : Number.NaN,
      val_accuracy: correct / Math.max(1, nv),
      val_top5: top5 / Math.max(1, nv),
      val_macro_precision: prf.macro.precision,
      val_macro_recall: prf.macro.recall,
      val_macro_f1: prf.macro.f1,
      val_micro_precision: prf.micro.precision,
      val_micro_recall: prf.micro.recall,
      val_micro_f1: prf.micro.f1,
      val_f1: best.f1,
      val_distance_threshold: best.maxDistance,
    };
  },
});
