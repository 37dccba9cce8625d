/** Leakage checks: a group on both sides of a fold means validation saw its labels in training. */
import type { LabelValue } from "./numpy_compat";
import { type Fold, FoldsError, type FoldSplit } from "./types";

/** Per-fold leakage: how many validation groups also occur in train, and some examples. */
export interface FoldLeakage {
  fold: number;
  validGroups: number;
  leakedGroups: number;
  /** Rows of the validation set whose group is also in train. */
  leakedRows: number;
  /** Up to 5 leaked group names. */
  examples: string[];
}

/** Counts, per fold, the validation groups that also appear in the training set. */
export function leakageReport(split: FoldSplit | Fold[], groups: ArrayLike<LabelValue>): FoldLeakage[] {
  const folds = Array.isArray(split) ? split : split.folds;
  return folds.map((f, fold) => {
    const inTrain = new Set<LabelValue>();
    for (const i of f.train) inTrain.add(groups[i]!);
    const valid = new Set<LabelValue>();
    const leaked = new Set<LabelValue>();
    let leakedRows = 0;
    for (const i of f.valid) {
      const g = groups[i]!;
      valid.add(g);
      if (inTrain.has(g)) {
        leaked.add(g);
        leakedRows++;
      }
    }
    return { fold, validGroups: valid.size, leakedGroups: leaked.size, leakedRows, examples: [...leaked].slice(0, 5).map(String) };
  });
}

/**
 * Throws when any fold has a group on both sides, naming the folds and groups; `column` names the
 * group column in the message. Also checks each fold's train and valid are disjoint.
 */
export function assertNoLeakage(split: FoldSplit | Fold[], groups: ArrayLike<LabelValue>, column = "label_group"): void {
  const folds = Array.isArray(split) ? split : split.folds;
  folds.forEach((f, fold) => {
    const v = new Set(f.valid);
    const both = f.train.filter((i) => v.has(i));
    if (both.length) throw new FoldsError(`fold ${fold}: rows ${[...both.slice(0, 5)].join(", ")} are in both train and valid`);
  });
  const bad = leakageReport(folds, groups).filter((r) => r.leakedGroups > 0);
  if (bad.length) {
    const lines = bad.map((r) => `  fold ${r.fold}: ${r.leakedGroups} of ${r.validGroups} validation ${column}s also in train (${r.leakedRows} rows), e.g. ${r.examples.join(", ")}`);
    throw new FoldsError(`fold leakage on ${column}:\n${lines.join("\n")}\nuse a grouped scheme (group, stratified-group or unseen) with --group ${column}`);
  }
}
