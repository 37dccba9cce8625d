/** KFold: contiguous folds (sklearn's KFold); with shuffle, a seeded permutation first. */
import { env } from "../env";
import { Rng } from "../rng";
import { checkK, type FoldSplit, makeSplit, type SplitOptions } from "./types";

/**
 * Splits n rows into k folds of sizes n//k (+1 for the first n%k). Unshuffled it equals
 * `sklearn.model_selection.KFold(k)`; shuffled it uses `Rng.derive(seed, "kfold")`.
 * @example const { folds } = kFold(100, { k: 5 });
 */
export function kFold(n: number, opts: SplitOptions = {}): FoldSplit {
  const { k = 5, shuffle = false, seed = env.seed } = opts;
  checkK(k, n, "kFold");
  const order = shuffle ? Rng.derive(seed, "kfold").permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const assignment = new Int32Array(n);
  let pos = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    for (let j = 0; j < size; j++) assignment[order[pos++]!] = f;
  }
  return makeSplit("kfold", assignment, k, seed, shuffle);
}
