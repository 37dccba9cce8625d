/** StratifiedKFold: each class spread evenly across folds (sklearn ≥ 0.22 allocation). */
import { env } from "../env";
import { Rng } from "../rng";
import type { LabelValue } from "./numpy_compat";
import { checkK, FoldsError, type FoldSplit, makeSplit, type SplitOptions } from "./types";

/**
 * Assigns folds so each class's rows are spread as evenly as possible. Unshuffled it equals
 * `sklearn.model_selection.StratifiedKFold(k)` exactly: classes are coded in order of first
 * appearance, the sorted codes are dealt round-robin to folds to get per-class fold counts, and
 * each class's rows (in row order) fill folds 0, 1, … With shuffle, each class's fold list is
 * shuffled by `Rng.derive(seed, "stratified", class)`.
 */
export function stratifiedKFold(labels: ArrayLike<LabelValue>, opts: SplitOptions = {}): FoldSplit {
  const { k = 5, shuffle = false, seed = env.seed } = opts;
  const n = labels.length;
  checkK(k, n, "stratifiedKFold");
  const code = new Map<LabelValue, number>();
  const enc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = code.get(labels[i]!);
    if (c === undefined) {
      c = code.size;
      code.set(labels[i]!, c);
    }
    enc[i] = c;
  }
  const nc = code.size;
  const counts = new Int32Array(nc);
  for (const c of enc) counts[c]!++;
  const warnings: string[] = [];
  const minCount = Math.min(...counts);
  if (counts.every((c) => c < k)) throw new FoldsError(`stratifiedKFold: k=${k} cannot be greater than the number of members in each class (largest class has ${Math.max(...counts)})`);
  if (minCount < k) warnings.push(`the least populated class has only ${minCount} members, fewer than k=${k}`);
  // y_order = sort(enc); allocation[f][c] = count of c in y_order[f::k]
  const sorted = Int32Array.from(enc).sort();
  const allocation = Array.from({ length: k }, () => new Int32Array(nc));
  for (let i = 0; i < n; i++) allocation[i % k]![sorted[i]!]!++;
  const assignment = new Int32Array(n);
  const cursor = new Int32Array(nc);
  const foldLists: Int32Array[] = [];
  for (let c = 0; c < nc; c++) {
    const list = new Int32Array(counts[c]!);
    let p = 0;
    for (let f = 0; f < k; f++) for (let j = 0; j < allocation[f]![c]!; j++) list[p++] = f;
    if (shuffle) {
      const r = Rng.derive(seed, "stratified", c);
      for (let i = list.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        const t = list[i]!;
        list[i] = list[j]!;
        list[j] = t;
      }
    }
    foldLists.push(list);
  }
  for (let i = 0; i < n; i++) assignment[i] = foldLists[enc[i]!]![cursor[enc[i]!]!++]!;
  return makeSplit("stratified", assignment, k, seed, shuffle, warnings);
}
