/** Unseen-label split: validation label groups never appear in training (random groups per fold). */
import { env } from "../env";
import { Rng } from "../rng";
import { type LabelValue, uniqueInverse } from "./numpy_compat";
import { dealGroupsToFolds, FoldsError, type FoldSplit, makeSplit, type SplitOptions } from "./types";

/**
 * Deals label groups, in a seeded random order, each to the fold with the fewest rows so far.
 * Every group is validated in exactly one fold and never trained on there, so validation
 * measures matching of labels the model has not seen (the Shopee test setting). Unlike
 * `groupKFold` (largest groups first, no randomness), each fold is a random sample of groups,
 * so its group-size mix is representative. Always seeded (`Rng.derive(seed, "unseen")`).
 */
export function unseenLabelSplit(groups: ArrayLike<LabelValue>, opts: SplitOptions = {}): FoldSplit {
  const { k = 5, seed = env.seed } = opts;
  if (!Number.isInteger(k) || k < 2) throw new FoldsError(`unseenLabelSplit: k must be an integer >= 2, got ${k}`);
  const { inverse, counts } = uniqueInverse(groups);
  const ng = counts.length;
  if (k > ng) throw new FoldsError(`unseenLabelSplit: cannot have k=${k} folds with only ${ng} label groups (need k <= groups)`);
  const order = Rng.derive(seed, "unseen").permutation(ng);
  const assignment = dealGroupsToFolds(order, counts, inverse, k);
  return makeSplit("unseen", assignment, k, seed, true);
}
