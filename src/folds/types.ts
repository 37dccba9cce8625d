/** Shared fold types. */

/** A bad fold request or folds file (k out of range, too few groups, a bad folds CSV): the message names the input and what was expected. */
export class FoldsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FoldsError";
  }
}

/** One fold: training and validation row indices (ascending). */
export interface Fold {
  train: Int32Array;
  valid: Int32Array;
}

/** The fold schemes `makeFolds` and `matchlab folds` know. */
export type FoldScheme = "kfold" | "stratified" | "group" | "stratified-group" | "unseen";

/** A complete split: the folds, each row's validation fold, and how it was made. */
export interface FoldSplit {
  scheme: FoldScheme;
  k: number;
  seed: number;
  shuffle: boolean;
  /** `assignment[i]` is the fold in which row i is validated. */
  assignment: Int32Array;
  folds: Fold[];
  /** Non-fatal problems (e.g. a class with fewer members than k), as sklearn warns. */
  warnings: string[];
}

/** Common options for every splitter. */
export interface SplitOptions {
  /** Number of folds (≥ 2). Defaults to 5. */
  k?: number;
  /** Shuffle before assigning (seeded; without it the result equals scikit-learn's). Defaults to false. */
  shuffle?: boolean;
  /** Seed for the shuffle; recorded in the split either way. Defaults to `env.seed`. */
  seed?: number;
}

/** Builds folds from a per-row assignment (rows with fold -1 are in no validation set but in every train set). */
export function foldsFromAssignment(assignment: Int32Array, k: number): Fold[] {
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    let nv = 0;
    for (const a of assignment) if (a === f) nv++;
    const valid = new Int32Array(nv);
    const train = new Int32Array(assignment.length - nv);
    let vi = 0;
    let ti = 0;
    for (let i = 0; i < assignment.length; i++) {
      if (assignment[i] === f) valid[vi++] = i;
      else train[ti++] = i;
    }
    folds.push({ train, valid });
  }
  return folds;
}

/** Checks k and returns it. */
export function checkK(k: number, n: number, where: string): number {
  if (!Number.isInteger(k) || k < 2) throw new FoldsError(`${where}: k must be an integer >= 2, got ${k}`);
  if (k > n) throw new FoldsError(`${where}: cannot have k=${k} folds with only ${n} rows (need k <= rows)`);
  return k;
}

/** Makes a FoldSplit from an assignment. */
export function makeSplit(scheme: FoldScheme, assignment: Int32Array, k: number, seed: number, shuffle: boolean, warnings: string[] = []): FoldSplit {
  return { scheme, k, seed, shuffle, assignment, folds: foldsFromAssignment(assignment, k), warnings };
}

/**
 * Deals groups, in the given order, each to the fold with the fewest rows so far (ties: lowest fold),
 * and returns each row's fold. `counts[g]` is group g's size; `inverse[i]` is row i's group.
 */
export function dealGroupsToFolds(order: ArrayLike<number>, counts: Int32Array, inverse: Int32Array, k: number): Int32Array {
  const perFold = new Float64Array(k);
  const groupFold = new Int32Array(counts.length);
  for (let j = 0; j < order.length; j++) {
    const g = order[j]!;
    let best = 0;
    for (let f = 1; f < k; f++) if (perFold[f]! < perFold[best]!) best = f;
    perFold[best]! += counts[g]!;
    groupFold[g] = best;
  }
  const assignment = new Int32Array(inverse.length);
  for (let i = 0; i < inverse.length; i++) assignment[i] = groupFold[inverse[i]!]!;
  return assignment;
}
