/**
 * Classification metrics: pure functions over typed arrays (no tfjs). Definitions follow
 * scikit-learn's, including `zero_division=0` (a 0/0 precision, recall or F1 is 0).
 */

/** Labels or predictions: one class index per sample. */
export type ClassLabels = ArrayLike<number>;

function checkPair(yTrue: ClassLabels, yPred: ClassLabels, where: string): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`${where}: yTrue has ${yTrue.length} samples but yPred has ${yPred.length} (expected equal lengths)`);
  }
}

function checkClass(v: number, numClasses: number, where: string, i: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
    throw new Error(`${where}: class ${v} at index ${i} is not an integer in [0, ${numClasses})`);
  }
}

function inferNumClasses(...arrays: ClassLabels[]): number {
  let m = -1;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m + 1;
}

/**
 * The fraction of samples whose prediction equals the label; 0 for no samples.
 * @example accuracy([0, 1, 2], [0, 2, 2]) // 0.666…
 */
export function accuracy(yTrue: ClassLabels, yPred: ClassLabels): number {
  checkPair(yTrue, yPred, "accuracy");
  if (yTrue.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/**
 * Top-k accuracy from a row-major scores matrix (n × numClasses): a sample counts when its true
 * class is among the k highest scores. Ties are broken like scikit-learn's `top_k_accuracy_score`
 * (among equal scores, the higher class index ranks first).
 * @example topKAccuracy([1, 0], new Float32Array([0.1, 0.5, 0.4, 0.9, 0.05, 0.05]), 3, 2) // 1
 */
export function topKAccuracy(yTrue: ClassLabels, scores: ArrayLike<number>, numClasses: number, k: number): number {
  const n = yTrue.length;
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`topKAccuracy: numClasses must be a positive integer, got ${numClasses}`);
  if (scores.length !== n * numClasses) {
    throw new Error(`topKAccuracy: scores has ${scores.length} values; expected n × numClasses = ${n} × ${numClasses} = ${n * numClasses}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new Error(`topKAccuracy: k must be a positive integer, got ${k}`);
  if (n === 0) return 0;
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    checkClass(t, numClasses, "topKAccuracy", i);
    const row = i * numClasses;
    const st = scores[row + t]!;
    let rank = 0;
    for (let j = 0; j < numClasses && rank < k; j++) {
      const s = scores[row + j]!;
      if (s > st || (s === st && j > t)) rank++;
    }
    if (rank < k) hit++;
  }
  return hit / n;
}

/** A confusion matrix: `counts[t * numClasses + p]` samples of true class t predicted as p. */
export interface ConfusionMatrix {
  numClasses: number;
  /** Row-major numClasses × numClasses counts (rows: true class, columns: predicted class). */
  counts: Int32Array;
}

/**
 * Counts (true, predicted) pairs. `numClasses` defaults to 1 + the largest class seen.
 * @example confusionMatrix([0, 1, 1], [0, 0, 1]).counts // [1, 0, 1, 1]
 */
export function confusionMatrix(yTrue: ClassLabels, yPred: ClassLabels, numClasses?: number): ConfusionMatrix {
  checkPair(yTrue, yPred, "confusionMatrix");
  const c = numClasses ?? inferNumClasses(yTrue, yPred);
  const counts = new Int32Array(c * c);
  for (let i = 0; i < yTrue.length; i++) {
    checkClass(yTrue[i]!, c, "confusionMatrix (yTrue)", i);
    checkClass(yPred[i]!, c, "confusionMatrix (yPred)", i);
    counts[yTrue[i]! * c + yPred[i]!]!++;
  }
  return { numClasses: c, counts };
}

/** Which classes the averages run over. */
export type LabelSet = "present" | "all";

/** Options for {@link precisionRecallF1}. */
export interface PrecisionRecallOptions {
  /** The number of classes. Defaults to 1 + the largest class seen. */
  numClasses?: number;
  /**
   * Classes the macro/weighted averages cover: `present` (those in yTrue or yPred, scikit-learn's
   * default) or `all` (0..numClasses-1). Defaults to `present`.
   */
  labels?: LabelSet;
}

/** Per-class and averaged precision, recall and F1. */
export interface PrecisionRecallF1 {
  /** Per class (length numClasses): TP / (TP + FP), 0 when nothing was predicted as the class. */
  precision: Float64Array;
  /** Per class: TP / (TP + FN), 0 when the class has no samples. */
  recall: Float64Array;
  /** Per class: harmonic mean of precision and recall, 0 when both are 0. */
  f1: Float64Array;
  /** Per class: the number of true samples. */
  support: Int32Array;
  /** Unweighted means over the chosen classes. */
  macro: { precision: number; recall: number; f1: number };
  /** Means weighted by support over the chosen classes. */
  weighted: { precision: number; recall: number; f1: number };
  /** Global TP/FP/FN counts over the chosen classes (equals accuracy for single-label data over all present classes). */
  micro: { precision: number; recall: number; f1: number };
  /** The classes the averages cover. */
  labels: Int32Array;
}

const div0 = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Precision, recall and F1 per class with macro, weighted and micro averages, as scikit-learn's
 * `precision_recall_fscore_support(..., zero_division=0)`.
 * @example precisionRecallF1([0, 1, 2, 2], [0, 2, 2, 2]).macro.f1
 */
export function precisionRecallF1(yTrue: ClassLabels, yPred: ClassLabels, opts: PrecisionRecallOptions = {}): PrecisionRecallF1 {
  const { numClasses, labels = "present" } = opts;
  if (labels !== "present" && labels !== "all") throw new Error(`unknown labels: ${labels as string} (expected present|all)`);
  const cm = confusionMatrix(yTrue, yPred, numClasses);
  const c = cm.numClasses;
  const tp = new Float64Array(c);
  const predCount = new Float64Array(c);
  const support = new Int32Array(c);
  for (let t = 0; t < c; t++) {
    for (let p = 0; p < c; p++) {
      const v = cm.counts[t * c + p]!;
      support[t]! += v;
      predCount[p]! += v;
      if (t === p) tp[t] = v;
    }
  }
  const precision = new Float64Array(c);
  const recall = new Float64Array(c);
  const f1 = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    precision[k] = div0(tp[k]!, predCount[k]!);
    recall[k] = div0(tp[k]!, support[k]!);
    f1[k] = f1Of(precision[k]!, recall[k]!);
  }
  const chosen: number[] = [];
  for (let k = 0; k < c; k++) if (labels === "all" || support[k]! > 0 || predCount[k]! > 0) chosen.push(k);
  let mp = 0;
  let mr = 0;
  let mf = 0;
  let wp = 0;
  let wr = 0;
  let wf = 0;
  let sTot = 0;
  let tpSum = 0;
  let predSum = 0;
  for (const k of chosen) {
    mp += precision[k]!;
    mr += recall[k]!;
    mf += f1[k]!;
    wp += precision[k]! * support[k]!;
    wr += recall[k]! * support[k]!;
    wf += f1[k]! * support[k]!;
    sTot += support[k]!;
    tpSum += tp[k]!;
    predSum += predCount[k]!;
  }
  const m = chosen.length;
  const microP = div0(tpSum, predSum);
  const microR = div0(tpSum, sTot);
  return {
    precision,
    recall,
    f1,
    support,
    macro: { precision: div0(mp, m), recall: div0(mr, m), f1: div0(mf, m) },
    weighted: { precision: div0(wp, sTot), recall: div0(wr, sTot), f1: div0(wf, sTot) },
    micro: { precision: microP, recall: microR, f1: f1Of(microP, microR) },
    labels: Int32Array.from(chosen),
  };
}

/** One off-diagonal cell of a confusion matrix. */
export interface ConfusedPair {
  /** The true class. */
  actual: number;
  /** The predicted class. */
  predicted: number;
  /** How many samples of `actual` were predicted as `predicted`. */
  count: number;
  /** Names for the two classes when `names` was given. */
  actualName?: string;
  predictedName?: string;
}

/** Options for {@link mostConfused}. */
export interface MostConfusedOptions {
  /** The most pairs to return. Defaults to 10. */
  top?: number;
  /** The least count to include. Defaults to 1. */
  minCount?: number;
  /** Class names, indexed by class. Defaults to none. */
  names?: readonly string[];
}

/**
 * The off-diagonal confusion-matrix cells, largest first (ties: by actual, then predicted class),
 * like fastai's `most_confused`.
 * @example mostConfused(confusionMatrix(y, pred), { top: 5, names })
 */
export function mostConfused(cm: ConfusionMatrix, opts: MostConfusedOptions = {}): ConfusedPair[] {
  const { top = 10, minCount = 1, names } = opts;
  const c = cm.numClasses;
  const out: ConfusedPair[] = [];
  for (let t = 0; t < c; t++) {
    for (let p = 0; p < c; p++) {
      const v = cm.counts[t * c + p]!;
      if (t !== p && v >= minCount) {
        const pair: ConfusedPair = { actual: t, predicted: p, count: v };
        if (names) {
          pair.actualName = names[t] ?? String(t);
          pair.predictedName = names[p] ?? String(p);
        }
        out.push(pair);
      }
    }
  }
  out.sort((a, b) => b.count - a.count || a.actual - b.actual || a.predicted - b.predicted);
  return out.slice(0, top);
}

/**
 * The arg-max class per row of a row-major n × numClasses scores matrix (first maximum wins).
 * @example argmaxRows(new Float32Array([0.1, 0.9, 0.7, 0.3]), 2) // Int32Array [1, 0]
 */
export function argmaxRows(scores: ArrayLike<number>, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses <= 0 || scores.length % numClasses !== 0) {
    throw new Error(`argmaxRows: scores has ${scores.length} values, not a multiple of numClasses = ${numClasses}`);
  }
  const n = scores.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = scores[i * numClasses]!;
    for (let j = 1; j < numClasses; j++) {
      const v = scores[i * numClasses + j]!;
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** The per-split metric names, in `metrics.csv` column order (each prefixed `train_` / `val_`). */
export const CLASSIFY_METRICS = Object.freeze(["loss", "accuracy", "top5", "macro_precision", "macro_recall", "macro_f1", "micro_precision", "micro_recall", "micro_f1"] as const);

/** The `metrics.csv` columns of a classification run, in order. */
export const CLASSIFY_METRICS_COLUMNS: readonly string[] = Object.freeze(["epoch", ...CLASSIFY_METRICS.map((m) => `train_${m}`), ...CLASSIFY_METRICS.map((m) => `val_${m}`)]);

/** One split's metrics from {@link classificationMetrics}. */
export type ClassificationMetrics = Record<(typeof CLASSIFY_METRICS)[number], number>;

/**
 * Loss, accuracy, top-5 and macro/micro precision, recall and F1 from row-major scores
 * (n × numClasses) and labels. Macro averages run over the classes present in labels or
 * predictions (scikit-learn's default).
 * @example classificationMetrics(yValid, scores, numClasses, meanLoss).macro_f1
 */
export function classificationMetrics(yTrue: ArrayLike<number>, scores: ArrayLike<number>, numClasses: number, loss: number): ClassificationMetrics {
  const pred = argmaxRows(scores, numClasses);
  const prf = precisionRecallF1(yTrue, pred, { numClasses });
  return {
    loss,
    accuracy: accuracy(yTrue, pred),
    top5: topKAccuracy(yTrue, scores, numClasses, Math.min(5, numClasses)),
    macro_precision: prf.macro.precision,
    macro_recall: prf.macro.recall,
    macro_f1: prf.macro.f1,
    micro_precision: prf.micro.precision,
    micro_recall: prf.micro.recall,
    micro_f1: prf.micro.f1,
  };
}
