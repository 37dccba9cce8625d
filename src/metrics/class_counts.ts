/**
 * Class-count analysis: how long the tail is. `countClasses` is pure (plain arrays), and
 * `imbalanceSummary` condenses counts into a handful of numbers; `classCounts` in src/notebook
 * shows the same as a danfo DataFrame.
 */

/** A class label as it appears in data: a name or an integer code. */
export type ClassValue = string | number;

/** Per-class counts, largest first. */
export interface ClassCountTable {
  /** The class labels, sorted by count (largest first; ties in first-seen order). */
  classes: ClassValue[];
  /** How many samples each class has. */
  counts: number[];
}

/**
 * Counts each class, largest first (ties keep first-seen order).
 * @example countClasses(["a", "b", "a"]) // { classes: ["a", "b"], counts: [2, 1] }
 */
export function countClasses(labels: ArrayLike<ClassValue>): ClassCountTable {
  const m = new Map<ClassValue, number>();
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v === undefined || v === null || (typeof v === "number" && !Number.isFinite(v))) {
      throw new Error(`countClasses: label at index ${i} is ${String(v)} (expected a string or a finite number)`);
    }
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  const entries = [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    classes: entries.map((e) => e[0]),
    counts: entries.map((e) => e[1]),
  };
}

/**
 * The effective number of samples of a class with `n` samples (Cui et al. 2019):
 * E_n = (1 − β^n) / (1 − β); tends to n as β → 1 and to 1 as β → 0.
 * @example effectiveNumber(10, 0.9) // (1 - 0.9**10) / 0.1 ≈ 6.513
 */
export function effectiveNumber(n: number, beta = 0.999): number {
  if (!(beta >= 0 && beta < 1)) throw new Error(`effectiveNumber: beta must be in [0, 1), got ${beta}`);
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`effectiveNumber: n must be a non-negative number, got ${n}`);
  return (1 - beta ** n) / (1 - beta);
}

/** Options for {@link classCounts}. */
export interface ClassCountsOptions {
  /** β of the effective-number column. Defaults to 0.999. */
  beta?: number;
}

/** Numbers that describe how imbalanced a set of class counts is. */
export type ImbalanceSummary = {
  /** Classes with at least one sample. */
  classes: number;
  /** Samples in all. */
  samples: number;
  /** The largest class count. */
  maxCount: number;
  /** The smallest non-zero class count. */
  minCount: number;
  /** The median class count. */
  medianCount: number;
  /** maxCount / minCount. */
  imbalanceRatio: number;
  /** Σ over classes of the effective number (1 − β^n)/(1 − β). */
  effectiveSamples: number;
  /** The largest class's effective number over the smallest's: the imbalance ratio as effective-number weighting sees it. */
  effectiveImbalanceRatio: number;
  /** Gini coefficient of the class counts: 0 when balanced, → 1 when one class holds everything. */
  gini: number;
  /** Shannon entropy of the class shares over log(classes): 1 when balanced. 1 for a single class. */
  normalizedEntropy: number;
  /** exp(entropy): the number of equally sized classes with the same entropy. */
  effectiveClasses: number;
  /** The fewest classes (largest first) that hold half the samples. */
  classesForHalf: number;
  /** Classes with exactly one sample. */
  singletons: number;
  /** β used for the effective numbers. */
  beta: number;
};

/**
 * Summarises class counts (zeros are ignored).
 * @example imbalanceSummary(countClasses(labels).counts).imbalanceRatio
 */
export function imbalanceSummary(counts: ArrayLike<number>, opts: ClassCountsOptions = {}): ImbalanceSummary {
  const { beta = 0.999 } = opts;
  const xs: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c >= 0) || !Number.isFinite(c)) throw new Error(`imbalanceSummary: counts[${i}] must be a non-negative number, got ${c}`);
    if (c > 0) xs.push(c);
  }
  if (xs.length === 0) throw new Error("imbalanceSummary: no class has a sample (expected at least one positive count)");
  xs.sort((a, b) => b - a);
  const k = xs.length;
  const total = xs.reduce((a, b) => a + b, 0);
  const maxCount = xs[0]!;
  const minCount = xs[k - 1]!;
  const medianCount = k % 2 ? xs[(k - 1) / 2]! : (xs[k / 2 - 1]! + xs[k / 2]!) / 2;
  // Gini with the counts ascending: G = Σ (2i − k − 1) x_i / (k Σ x), i = 1..k
  let g = 0;
  for (let i = 0; i < k; i++) g += (2 * (i + 1) - k - 1) * xs[k - 1 - i]!;
  const gini = g / (k * total);
  let h = 0;
  for (const x of xs) h -= (x / total) * Math.log(x / total);
  let half = 0;
  let acc = 0;
  while (acc < total / 2) acc += xs[half++]!;
  const effMax = effectiveNumber(maxCount, beta);
  const effMin = effectiveNumber(minCount, beta);
  return {
    classes: k,
    samples: total,
    maxCount,
    minCount,
    medianCount,
    imbalanceRatio: maxCount / minCount,
    effectiveSamples: xs.reduce((a, x) => a + effectiveNumber(x, beta), 0),
    effectiveImbalanceRatio: effMax / effMin,
    gini,
    normalizedEntropy: k > 1 ? h / Math.log(k) : 1,
    effectiveClasses: Math.exp(h),
    classesForHalf: half,
    singletons: xs.filter((x) => x === 1).length,
    beta,
  };
}
