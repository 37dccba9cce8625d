/** GroupKFold: whole groups per fold, largest groups first into the lightest fold (sklearn 1.2). */
import { env } from "../env";
import { Rng } from "../rng";
import { argsortNumpy, type LabelValue, uniqueInverse } from "./numpy_compat";
import { dealGroupsToFolds, FoldsError, type FoldSplit, makeSplit, type SplitOptions } from "./types";

/**
 * Assigns whole groups to folds: groups sorted by size (largest first) each go to the fold with
 * the fewest rows so far. Unshuffled it equals `sklearn.model_selection.GroupKFold(k)` of
 * scikit-learn 1.2 with numpy 1.24 (tested against Debian's python3-sklearn), including the tie
 * order among equal-sized groups, which comes from numpy's introsort argsort. Later sklearn
 * (GroupKFold gained shuffling) or numpy (SIMD argsort) releases may break ties differently.
 * With shuffle, equal-sized groups are ordered by `Rng.derive(seed, "group")`.
 */
export function groupKFold(groups: ArrayLike<LabelValue>, opts: SplitOptions = {}): FoldSplit {
  const { k = 5, shuffle = false, seed = env.seed } = opts;
  if (!Number.isInteger(k) || k < 2) throw new FoldsError(`groupKFold: k must be an integer >= 2, got ${k}`);
  const { inverse, counts } = uniqueInverse(groups);
  const ng = counts.length;
  if (k > ng) throw new FoldsError(`groupKFold: cannot have k=${k} folds with only ${ng} groups (need k <= groups)`);
  let order: Int32Array;
  if (shuffle) {
    const perm = Rng.derive(seed, "group").permutation(ng);
    order = Int32Array.from(perm).sort((a, b) => counts[b]! - counts[a]!); // stable: random among ties
  } else {
    order = argsortNumpy(counts).reverse();
  }
  const assignment = dealGroupsToFolds(order, counts, inverse, k);
  return makeSplit("group", assignment, k, seed, shuffle);
}
