/**
 * What is specific to the classification task: a label column encoded to dense class codes, the
 * classifier's text (the title, with or without the listing's tags), and the per-epoch metrics
 * row in the VQA notes' `metrics.csv` shape (loss, accuracy, top-5, macro/micro P/R/F1 for
 * training and validation).
 */
import type { Listing } from "../data/dataset";
import { accuracy, argmaxRows, precisionRecallF1, topKAccuracy } from "../metrics/classification";

/** Encoded class labels: a code per listing and the class names in code order. */
export interface EncodedLabels {
  /** The column the labels came from. */
  column: string;
  /** codes[i] is listing i's class, in 0..names.length-1. */
  codes: Int32Array;
  /** Class names, sorted (so codes do not depend on row order). */
  names: string[];
  /** Listings per class, by code. */
  counts: Int32Array;
}

const BUILTIN: Record<string, (l: Listing) => string> = {
  label_group: (l) => l.labelGroup,
  posting_id: (l) => l.postingId,
  title: (l) => l.title,
};

/**
 * Encodes a label column (`label_group` or any extra CSV column such as `subgroup`, `group`) to
 * class codes. Throws naming the rows whose value is missing or empty, and the known columns when
 * the column is absent.
 * @example const { codes, names } = encodeClassLabels(ds.listings, "subgroup");
 */
export function encodeClassLabels(listings: readonly Listing[], column: string): EncodedLabels {
  if (listings.length === 0) throw new Error("encodeClassLabels: no listings");
  const get = BUILTIN[column] ?? ((l: Listing) => l.extra[column]);
  if (!(column in BUILTIN) && !(column in listings[0]!.extra)) {
    const known = [...Object.keys(BUILTIN), ...Object.keys(listings[0]!.extra)];
    throw new Error(`unknown label column: ${column} (expected ${known.join("|")})`);
  }
  const values = listings.map(get);
  const bad = values.flatMap((v, i) => (v === undefined || v === "" ? [i] : []));
  if (bad.length > 0) {
    const where = bad.slice(0, 5).map((i) => `row ${i} (posting_id ${listings[i]!.postingId})`);
    throw new Error(`label column ${column}: ${bad.length} listing(s) have no value: ${where.join(", ")}${bad.length > 5 ? ", …" : ""}`);
  }
  const names = [...new Set(values as string[])].sort();
  const code = new Map(names.map((n, i) => [n, i] as const));
  const codes = Int32Array.from(values as string[], (v) => code.get(v)!);
  const counts = new Int32Array(names.length);
  for (const c of codes) counts[c]!++;
  return { column, codes, names, counts };
}

/**
 * The classifier's text for a listing: the title, plus the `tags` column ('|'-joined) when
 * `withTags` is set.
 * @example classifierText(listing, true) // "Grinning face grinning face | face | grin"
 */
export function classifierText(listing: Listing, withTags: boolean): string {
  if (!withTags) return listing.title;
  const tags = listing.extra.tags;
  if (tags === undefined) throw new Error(`classifierText: listing ${listing.postingId} has no tags column (the dataset needs a 'tags' column for a with-tags run)`);
  return tags ? `${listing.title} ${tags.split("|").join(" ")}` : listing.title;
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

/** Flattens an epoch's train and validation metrics into a `metrics.csv` row (see {@link CLASSIFY_METRICS_COLUMNS}). */
export function classifyMetricsRow(epoch: number, train: ClassificationMetrics, val: ClassificationMetrics): Record<string, number> {
  const row: Record<string, number> = { epoch };
  for (const m of CLASSIFY_METRICS) row[`train_${m}`] = train[m];
  for (const m of CLASSIFY_METRICS) row[`val_${m}`] = val[m];
  return row;
}

/**
 * The classification columns a `metrics.csv` header lacks (empty when it has them all), so a run
 * written by any trainer can be checked for the VQA notes' shape.
 * @example missingMetricsColumns(readFileSync("runs/x/metrics.csv", "utf8").split("\n")[0].split(","))
 */
export function missingMetricsColumns(header: readonly string[]): string[] {
  const have = new Set(header.map((h) => h.trim()));
  return CLASSIFY_METRICS_COLUMNS.filter((c) => !have.has(c));
}
