/**
 * danfo DataFrames of the class-imbalance views (src/metrics/class_counts.ts, per_class.ts) and of
 * study summaries (src/train/study.ts), for `table()` in notebooks.
 */
import { DataFrame } from "danfojs-node";
import { type ClassCountsOptions, type ClassValue, countClasses, effectiveNumber } from "../metrics/class_counts";
import type { PerClassRow } from "../metrics/per_class";
import { formatMeanStd, type StudySummaryRow } from "../train/study";

/**
 * A danfo DataFrame of class counts, largest first, with columns
 * `class, count, share, cumulative_share, effective_number`.
 * @example classCounts(ds.listings.map((l) => l.extra.subgroup)).head(10).print()
 */
export function classCounts(labels: ArrayLike<ClassValue>, opts: ClassCountsOptions = {}): DataFrame {
  const { beta = 0.999 } = opts;
  const { classes, counts } = countClasses(labels);
  if (classes.length === 0) throw new Error("classCounts: no labels (expected at least one)");
  const total = counts.reduce((a, b) => a + b, 0);
  let cum = 0;
  const share = counts.map((c) => c / total);
  const cumulative = counts.map((c) => {
    cum += c;
    return cum / total;
  });
  return new DataFrame({
    class: classes.map(String),
    count: counts,
    share,
    cumulative_share: cumulative,
    effective_number: counts.map((c) => effectiveNumber(c, beta)),
  });
}

/** A danfo DataFrame of {@link perClassReport} rows (snake_case columns). */
export function perClassFrame(rows: readonly PerClassRow[]): DataFrame {
  if (rows.length === 0) throw new Error("perClassFrame: no rows (no class has evaluation samples)");
  return new DataFrame({
    class: rows.map((r) => r.class),
    name: rows.map((r) => r.name),
    train_count: rows.map((r) => r.trainCount),
    train_share: rows.map((r) => r.trainShare),
    support: rows.map((r) => r.support),
    precision: rows.map((r) => r.precision),
    recall: rows.map((r) => r.recall),
    f1: rows.map((r) => r.f1),
  });
}

/**
 * A study summary as a DataFrame: the grid columns, folds, then "mean ± std" text per metric.
 * @example table(studyTable(outcome.summary, outcome.metrics))
 */
export function studyTable(summary: readonly StudySummaryRow[], metrics: readonly string[], digits = 3): DataFrame {
  if (summary.length === 0) throw new Error("studyTable: no arms");
  const keys = Object.keys(summary[0]!.values);
  const cols: Record<string, Array<string | number>> = {};
  if (keys.length === 0) cols.arm = summary.map((s) => s.arm);
  for (const k of keys) cols[k] = summary.map((s) => String(s.values[k]));
  cols.folds = summary.map((s) => s.folds);
  for (const m of metrics) cols[m] = summary.map((s) => formatMeanStd(s.metrics[m]!, digits));
  return new DataFrame(cols);
}
