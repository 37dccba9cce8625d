/** StratifiedGroupKFold: whole groups per fold, keeping class proportions (sklearn's greedy). */
import { env } from "../env";
import { Rng } from "../rng";
import { isCloseNumpy, type LabelValue, pairwiseSum, stdContiguous, uniqueInverse } from "./numpy_compat";
import { FoldsError, type FoldSplit, makeSplit, type SplitOptions } from "./types";

/**
 * Groups sorted by the spread of their class counts (most uneven first, stable) each go to the
 * fold that keeps the mean per-class std of fold proportions lowest (ties: the smaller fold).
 * Unshuffled it equals `sklearn.model_selection.StratifiedGroupKFold(k)` bit for bit (the float
 * arithmetic follows numpy's summation order). With shuffle, groups are permuted by
 * `Rng.derive(seed, "stratified-group")` before the stable sort.
 */
export function stratifiedGroupKFold(labels: ArrayLike<LabelValue>, groups: ArrayLike<LabelValue>, opts: SplitOptions = {}): FoldSplit {
  const { k = 5, shuffle = false, seed = env.seed } = opts;
  if (!Number.isInteger(k) || k < 2) throw new FoldsError(`stratifiedGroupKFold: k must be an integer >= 2, got ${k}`);
  if (labels.length !== groups.length) throw new FoldsError(`stratifiedGroupKFold: ${labels.length} labels but ${groups.length} groups (expected one of each per row)`);
  const y = uniqueInverse(labels);
  const g = uniqueInverse(groups);
  const nc = y.counts.length;
  const ng = g.counts.length;
  if (y.counts.every((c) => k > c)) throw new FoldsError(`stratifiedGroupKFold: k=${k} cannot be greater than the number of members in each class`);
  const warnings: string[] = [];
  const minC = Math.min(...y.counts);
  if (minC < k) warnings.push(`the least populated class has only ${minC} members, fewer than k=${k}`);
  const perGroup = new Float64Array(ng * nc);
  for (let i = 0; i < labels.length; i++) perGroup[g.inverse[i]! * nc + y.inverse[i]!]! += 1;
  let order = Int32Array.from({ length: ng }, (_, i) => i);
  if (shuffle) order = Rng.derive(seed, "stratified-group").permutation(ng);
  const negStd = new Float64Array(ng);
  for (let i = 0; i < ng; i++) negStd[i] = -stdContiguous(perGroup, i * nc, nc);
  const sortedGroups = Array.from(order).sort((a, b) => negStd[a]! - negStd[b]!); // stable (mergesort)
  const perFold = new Float64Array(k * nc);
  const groupFold = new Int32Array(ng);
  const frac = new Float64Array(k * nc);
  const colMean = new Float64Array(nc);
  const colVar = new Float64Array(nc);
  const stdPerClass = new Float64Array(nc);
  for (const gi of sortedGroups) {
    const gc = perGroup.subarray(gi * nc, (gi + 1) * nc);
    let best = -1;
    let minEval = Number.POSITIVE_INFINITY;
    let minSamples = Number.POSITIVE_INFINITY;
    for (let f = 0; f < k; f++) {
      for (let c = 0; c < nc; c++) perFold[f * nc + c]! += gc[c]!;
      for (let j = 0; j < k * nc; j++) frac[j] = perFold[j]! / y.counts[j % nc]!;
      // np.std(frac, axis=0): sequential sums down each column
      colMean.fill(0);
      for (let r = 0; r < k; r++) for (let c = 0; c < nc; c++) colMean[c]! += frac[r * nc + c]!;
      for (let c = 0; c < nc; c++) colMean[c] = colMean[c]! / k;
      colVar.fill(0);
      for (let r = 0; r < k; r++) {
        for (let c = 0; c < nc; c++) {
          const d = frac[r * nc + c]! - colMean[c]!;
          colVar[c]! += d * d;
        }
      }
      for (let c = 0; c < nc; c++) stdPerClass[c] = Math.sqrt(colVar[c]! / k);
      for (let c = 0; c < nc; c++) perFold[f * nc + c]! -= gc[c]!;
      const evalF = (0 + pairwiseSum(stdPerClass)) / nc;
      const samples = 0 + pairwiseSum(perFold, f * nc, nc);
      if (evalF < minEval || (isCloseNumpy(evalF, minEval) && samples < minSamples)) {
        minEval = evalF;
        minSamples = samples;
        best = f;
      }
    }
    for (let c = 0; c < nc; c++) perFold[best * nc + c]! += gc[c]!;
    groupFold[gi] = best;
  }
  const assignment = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) assignment[i] = groupFold[g.inverse[i]!]!;
  return makeSplit("stratified-group", assignment, k, seed, shuffle, warnings);
}
