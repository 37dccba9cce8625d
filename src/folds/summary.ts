/** Per-fold summaries for comparing validation schemes (sizes, leakage, group sizes seen in validation). */
import type { LabelValue } from "./numpy_compat";
import type { Fold, FoldSplit } from "./types";

/** One fold's numbers. */
export interface FoldSummaryRow {
  fold: number;
  train: number;
  valid: number;
  validGroups: number;
  /** Validation groups that also have rows in train. */
  leakedGroups: number;
  /** Validation rows whose group has no other row in the validation set (nothing to match there). */
  aloneInValid: number;
}

/**
 * For each validation row, how many rows of its group are in the same validation set (itself
 * included): the group size that matching inside the fold actually sees.
 */
export function validGroupSizes(fold: Fold, groups: ArrayLike<LabelValue>): Int32Array {
  const count = new Map<LabelValue, number>();
  for (const i of fold.valid) count.set(groups[i]!, (count.get(groups[i]!) ?? 0) + 1);
  return Int32Array.from(fold.valid, (i) => count.get(groups[i]!)!);
}

/** Sizes, leakage and lonely validation rows per fold. */
export function foldSummary(split: FoldSplit | Fold[], groups: ArrayLike<LabelValue>): FoldSummaryRow[] {
  const folds = Array.isArray(split) ? split : split.folds;
  return folds.map((f, fold) => {
    const inTrain = new Set<LabelValue>();
    for (const i of f.train) inTrain.add(groups[i]!);
    const vg = new Set<LabelValue>();
    for (const i of f.valid) vg.add(groups[i]!);
    let leaked = 0;
    for (const g of vg) if (inTrain.has(g)) leaked++;
    const sizes = validGroupSizes(f, groups);
    let alone = 0;
    for (const s of sizes) if (s === 1) alone++;
    return { fold, train: f.train.length, valid: f.valid.length, validGroups: vg.size, leakedGroups: leaked, aloneInValid: alone };
  });
}
