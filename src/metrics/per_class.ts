/**
 * Per-class views of a classifier under imbalance: recall against how often the class was seen in
 * training, recall by frequency band (head / middle / tail), and the most-confused pairs. Built on
 * src/metrics' scikit-learn-compatible functions; results as plain rows (src/notebook's
 * `perClassFrame` shows them as a danfo DataFrame).
 */
import { type ClassLabels, confusionMatrix, mostConfused, precisionRecallF1 } from "./classification";

/** One class's row in a {@link perClassReport}. */
export type PerClassRow = {
  /** The class code. */
  class: number;
  /** The class name (the code as text when no names were given). */
  name: string;
  /** Training samples of the class. */
  trainCount: number;
  /** trainCount / all training samples. */
  trainShare: number;
  /** Evaluation samples of the class. */
  support: number;
  precision: number;
  recall: number;
  f1: number;
};

/** Options for {@link perClassReport}. */
export interface PerClassReportOptions {
  /** The number of classes. Defaults to 1 + the largest class seen (in labels, predictions or trainCounts). */
  numClasses?: number;
  /** Class names by code. Defaults to the codes. */
  names?: readonly string[];
  /** Training samples per class (the frequency recall is plotted against). Defaults to the evaluation support. */
  trainCounts?: ArrayLike<number>;
  /** Keep classes with no evaluation samples. Defaults to false. */
  includeUnseen?: boolean;
}

/**
 * Precision, recall and F1 per class next to the class's training frequency, most frequent first.
 * @example const rows = perClassReport(yValid, pred, { names, trainCounts });
 */
export function perClassReport(yTrue: ClassLabels, yPred: ClassLabels, opts: PerClassReportOptions = {}): PerClassRow[] {
  const { names, trainCounts, includeUnseen = false } = opts;
  let numClasses = opts.numClasses;
  if (numClasses === undefined) {
    let m = (trainCounts?.length ?? 0) - 1;
    for (let i = 0; i < yTrue.length; i++) m = Math.max(m, yTrue[i]!, yPred[i]!);
    numClasses = m + 1;
  }
  if (trainCounts && trainCounts.length !== numClasses) throw new Error(`perClassReport: trainCounts has ${trainCounts.length} entries, expected one per class (${numClasses})`);
  if (names && names.length !== numClasses) throw new Error(`perClassReport: names has ${names.length} entries, expected one per class (${numClasses})`);
  const prf = precisionRecallF1(yTrue, yPred, { numClasses, labels: "all" });
  const freq = trainCounts ?? prf.support;
  let total = 0;
  for (let c = 0; c < numClasses; c++) total += freq[c]!;
  const rows: PerClassRow[] = [];
  for (let c = 0; c < numClasses; c++) {
    if (!includeUnseen && prf.support[c] === 0) continue;
    rows.push({
      class: c,
      name: names ? names[c]! : String(c),
      trainCount: freq[c]!,
      trainShare: total > 0 ? freq[c]! / total : 0,
      support: prf.support[c]!,
      precision: prf.precision[c]!,
      recall: prf.recall[c]!,
      f1: prf.f1[c]!,
    });
  }
  rows.sort((a, b) => b.trainCount - a.trainCount || a.class - b.class);
  return rows;
}

/** Points for a recall-against-frequency scatter (pass to `scatterChart` with `logX`). */
export interface RecallFrequencyPoints {
  /** Training count per class. */
  x: number[];
  /** Recall per class. */
  y: number[];
  /** Hover text: name, count, support. */
  text: string[];
  /** The frequency band of each class (see {@link recallByBand}). */
  groups: string[];
  /** Pearson correlation of log(1 + count) with recall (NaN with fewer than two classes or no spread). */
  correlation: number;
}

/**
 * Scatter input for recall against training frequency.
 * @example const p = recallFrequencyPoints(rows); show(scatterChart({ ...p, logX: true }))
 */
export function recallFrequencyPoints(rows: readonly PerClassRow[], bands = 3): RecallFrequencyPoints {
  const band = bandOf(rows, bands);
  const x = rows.map((r) => r.trainCount);
  const y = rows.map((r) => r.recall);
  return {
    x,
    y,
    text: rows.map((r) => `${r.name}: ${r.trainCount} train, ${r.support} eval`),
    groups: rows.map((r) => band.get(r.class)!),
    correlation: pearson(
      x.map((v) => Math.log1p(v)),
      y,
    ),
  };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 2) return Number.NaN;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

const BAND_NAMES: Record<number, string[]> = {
  2: ["head", "tail"],
  3: ["head", "middle", "tail"],
};

/** Assigns each class to a band by training-count rank: equal numbers of classes per band, most frequent first. */
function bandOf(rows: readonly PerClassRow[], bands: number): Map<number, string> {
  if (!Number.isInteger(bands) || bands < 1) throw new Error(`bands must be a positive integer, got ${bands}`);
  const names = BAND_NAMES[bands] ?? Array.from({ length: bands }, (_, i) => `band ${i + 1}`);
  const sorted = [...rows].sort((a, b) => b.trainCount - a.trainCount || a.class - b.class);
  const out = new Map<number, string>();
  sorted.forEach((r, i) => {
    out.set(r.class, names[Math.min(bands - 1, Math.floor((i * bands) / sorted.length))]!);
  });
  return out;
}

/** Mean per-class recall of one frequency band. */
export type BandRecall = {
  band: string;
  /** Classes in the band. */
  classes: number;
  /** The band's smallest and largest training counts. */
  minCount: number;
  maxCount: number;
  /** Unweighted mean of the band's per-class recalls. */
  meanRecall: number;
  /** Evaluation samples in the band. */
  support: number;
};

/**
 * Mean recall per frequency band: the classes ranked by training count and cut into `bands`
 * equal-sized groups (3: head, middle, tail).
 * @example recallByBand(perClassReport(y, pred, { trainCounts }))
 */
export function recallByBand(rows: readonly PerClassRow[], bands = 3): BandRecall[] {
  const band = bandOf(rows, bands);
  const out = new Map<string, BandRecall>();
  for (const r of [...rows].sort((a, b) => b.trainCount - a.trainCount || a.class - b.class)) {
    const b = band.get(r.class)!;
    const acc = out.get(b) ?? {
      band: b,
      classes: 0,
      minCount: Number.POSITIVE_INFINITY,
      maxCount: 0,
      meanRecall: 0,
      support: 0,
    };
    out.set(b, acc);
    acc.classes++;
    acc.minCount = Math.min(acc.minCount, r.trainCount);
    acc.maxCount = Math.max(acc.maxCount, r.trainCount);
    acc.meanRecall += r.recall;
    acc.support += r.support;
  }
  const res = [...out.values()];
  for (const b of res) b.meanRecall /= b.classes;
  return res;
}

/** One most-confused pair with its share of the true class. */
export type ConfusionSummaryRow = {
  actual: string;
  predicted: string;
  /** Samples of `actual` predicted as `predicted`. */
  count: number;
  /** count / the true class's evaluation samples. */
  shareOfActual: number;
};

/** Options for {@link confusionSummary}. */
export interface ConfusionSummaryOptions {
  /** Number of classes. Defaults to 1 + the largest class seen. */
  numClasses?: number;
  /** Class names by code. Defaults to the codes. */
  names?: readonly string[];
  /** Pairs to return. Defaults to 10. */
  top?: number;
  /** Least count to include. Defaults to 1. */
  minCount?: number;
}

/**
 * The most-confused (actual → predicted) pairs, largest first, with the share of the actual class
 * they take (from `mostConfused` over the confusion matrix).
 * @example confusionSummary(yValid, pred, { names, top: 10 })
 */
export function confusionSummary(yTrue: ClassLabels, yPred: ClassLabels, opts: ConfusionSummaryOptions = {}): ConfusionSummaryRow[] {
  const { numClasses, names, top = 10, minCount = 1 } = opts;
  const cm = confusionMatrix(yTrue, yPred, numClasses);
  const support = new Int32Array(cm.numClasses);
  for (let i = 0; i < yTrue.length; i++) support[yTrue[i]!]!++;
  return mostConfused(cm, { top, minCount, names }).map((p) => ({
    actual: p.actualName ?? String(p.actual),
    predicted: p.predictedName ?? String(p.predicted),
    count: p.count,
    shareOfActual: p.count / support[p.actual]!,
  }));
}
