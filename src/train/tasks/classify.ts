/**
 * The classification task (VQA-style answer classification under class imbalance): the heads
 * learn the classes of a label column (`classify.label`, e.g. subgroup) over stratified folds;
 * validation scores the main head's predictions on the validation rows: macro F1 (primary, every
 * class counts once), accuracy, top-5, micro/macro precision and recall, and the loss.
 */
import type { Section } from "../../config";
import { encodeClassLabels } from "../../data/labels";
import { stratifiedKFold } from "../../folds/stratified_kfold";
import { CLASSIFY_METRICS, classificationMetrics } from "../../metrics/classification";
import { assertFiniteOutputs } from "../divergence";
import { foldRows, type TaskDef, type TaskSplit } from "./types";

const section: Section = Object.freeze({
  label: { type: "string", default: "subgroup", doc: "the column whose values are the classes (label_group or any extra CSV column)" },
});

/** The classification task's row of the task table. */
export const classifyTask: TaskDef = Object.freeze<TaskDef>({
  name: "classify",
  summary: "the classes of a label column over stratified folds, scored by macro F1",
  section,
  metric: Object.freeze({ name: "val_macro_f1", mode: "max" as const }),
  columns: Object.freeze(CLASSIFY_METRICS.map((m) => `val_${m}`)),
  embeds: false,
  studyMetrics: Object.freeze(["val_macro_f1", "val_accuracy", "val_top5", "val_micro_f1", "val_macro_recall"]),

  split(listings, cfg): TaskSplit {
    const enc = encodeClassLabels(listings, cfg.classify.label);
    if (enc.names.length < 2) throw new Error(`classify.label ${cfg.classify.label}: only ${enc.names.length} class (${enc.names.join("")}); a classifier needs at least 2`);
    const fold = foldRows(stratifiedKFold(enc.codes, { k: cfg.data.folds, shuffle: true, seed: cfg.data.fold_seed }), cfg, listings.length);
    return { train: fold.train, valid: fold.valid, labels: enc.codes, classOf: enc.codes, numClasses: enc.names.length, classNames: enc.names };
  },

  async validate(model, split) {
    const C = split.numClasses;
    const probs = model.predict(split.valid);
    assertFiniteOutputs(probs, "validation probabilities");
    const y = Int32Array.from(split.valid, (r) => split.labels[r]!);
    let loss = 0;
    for (let i = 0; i < y.length; i++) loss -= Math.log(Math.max(probs[i * C + y[i]!]!, 1e-12));
    const m = classificationMetrics(y, probs, C, loss / Math.max(1, y.length));
    return Object.fromEntries(Object.entries(m).map(([k, v]) => [`val_${k}`, v]));
  },
});
