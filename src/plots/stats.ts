/**
 * The small statistics the figure builders compute before plotting, so specs carry bin counts
 * and box statistics instead of raw arrays (a 100k-pair distance histogram stays a few KB).
 */
import type { PlotNumbers } from "./types";

/** How many histogram bins: Sturges, square root, Freedman–Diaconis, or numpy's "auto" (the finer of sturges and fd). */
export type BinRule = "sturges" | "sqrt" | "fd" | "auto";

/** How histogram heights are normalised (plotly's `histnorm`, computed here). */
export type HistNorm = "count" | "probability" | "percent" | "density";

/** Throws when a value is not finite, naming the series and index. */
export function checkPlotValues(values: PlotNumbers, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`${what}: value at index ${i} is ${values[i]} (expected a finite number)`);
  }
}

/** The q-quantile (0 ≤ q ≤ 1) of already-sorted values, linearly interpolated (numpy's default). */
export function quantileSorted(sorted: PlotNumbers, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile must be in [0, 1], got ${q}`);
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function sortedCopy(values: PlotNumbers): Float64Array {
  return Float64Array.from(values).sort();
}

const BIN_COUNT: Readonly<Record<BinRule, (sorted: Float64Array, lo: number, hi: number) => number>> = Object.freeze({
  sturges: (s: Float64Array) => Math.ceil(Math.log2(Math.max(1, s.length))) + 1,
  sqrt: (s: Float64Array) => Math.ceil(Math.sqrt(Math.max(1, s.length))),
  fd: (s: Float64Array, lo: number, hi: number) => {
    const iqr = quantileSorted(s, 0.75) - quantileSorted(s, 0.25);
    const width = (2 * iqr) / Math.cbrt(Math.max(1, s.length));
    return width > 0 ? Math.ceil((hi - lo) / width) : BIN_COUNT.sturges(s, lo, hi);
  },
  auto: (s: Float64Array, lo: number, hi: number) => Math.max(BIN_COUNT.sturges(s, lo, hi), BIN_COUNT.fd(s, lo, hi)),
});

/** Options for {@link binEdges}. */
export interface BinOptions {
  /** A bin count, a rule name, or explicit ascending edges. Defaults to "auto". */
  bins?: number | BinRule | readonly number[];
  /** The [min, max] range to bin over. Defaults to the data's range. */
  range?: readonly [number, number];
  /** The most bins a rule may produce. Defaults to 200. */
  maxBins?: number;
}

/**
 * Shared, equal-width bin edges for one or more series (so overlaid histograms line up).
 * @example binEdges([matched, unmatched], { bins: "fd" })
 */
export function binEdges(series: readonly PlotNumbers[], opts: BinOptions = {}): number[] {
  const { bins = "auto", range, maxBins = 200 } = opts;
  if (Array.isArray(bins)) {
    if (bins.length < 2) throw new Error(`bins: explicit edges need at least 2 values, got ${bins.length}`);
    for (let i = 1; i < bins.length; i++) {
      if (!(bins[i]! > bins[i - 1]!)) throw new Error(`bins: edges must be strictly ascending (edge ${i} is ${bins[i]} after ${bins[i - 1]})`);
    }
    return [...bins];
  }
  let total = 0;
  for (const s of series) total += s.length;
  const all = new Float64Array(total);
  let o = 0;
  for (const s of series) for (let i = 0; i < s.length; i++) all[o++] = s[i]!;
  all.sort();
  let [lo, hi] = range ?? [total ? all[0]! : 0, total ? all[total - 1]! : 1];
  if (!(hi >= lo)) throw new Error(`bins: range must be [min, max] with min <= max, got [${lo}, ${hi}]`);
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  let k: number;
  if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
    k = bins;
  } else {
    const rule = BIN_COUNT[bins as BinRule];
    if (!rule) throw new Error(`unknown bin rule: ${bins} (expected ${Object.keys(BIN_COUNT).join("|")})`);
    k = Math.min(maxBins, Math.max(1, rule(all, lo, hi)));
  }
  const w = (hi - lo) / k;
  return Array.from({ length: k + 1 }, (_, i) => (i === k ? hi : lo + i * w));
}

/** Counts per bin: bin i holds edges[i] ≤ v < edges[i+1], the last bin also v = max. Values outside are not counted. */
export function binCounts(values: PlotNumbers, edges: readonly number[]): number[] {
  const k = edges.length - 1;
  const counts = new Array<number>(k).fill(0);
  const lo = edges[0]!;
  const hi = edges[k]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo || v > hi) continue;
    // binary search: the last edge <= v
    let a = 0;
    let b = k;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (edges[m]! <= v) a = m;
      else b = m;
    }
    counts[a]!++;
  }
  return counts;
}

/** Applies a {@link HistNorm} to bin counts. */
export function normaliseCounts(counts: readonly number[], edges: readonly number[], norm: HistNorm): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  switch (norm) {
    case "count":
      return [...counts];
    case "probability":
      return counts.map((c) => (n ? c / n : 0));
    case "percent":
      return counts.map((c) => (n ? (100 * c) / n : 0));
    case "density":
      return counts.map((c, i) => (n ? c / n / (edges[i + 1]! - edges[i]!) : 0));
    default:
      throw new Error(`unknown histnorm: ${norm} (expected count|probability|percent|density)`);
  }
}

/** Tukey box statistics of a sample. */
export interface BoxStats {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
  sd: number;
  /** The lowest value within q1 − 1.5·IQR (the lower whisker). */
  lowerFence: number;
  /** The highest value within q3 + 1.5·IQR (the upper whisker). */
  upperFence: number;
  /** Values beyond the whiskers, ascending. */
  outliers: number[];
}

/** Box statistics (quartiles interpolated linearly, whiskers at 1.5·IQR). */
export function boxStats(values: PlotNumbers, what = "box"): BoxStats {
  checkPlotValues(values, what);
  if (values.length === 0) throw new Error(`${what}: no values (expected at least one)`);
  const s = sortedCopy(values);
  const n = s.length;
  const q1 = quantileSorted(s, 0.25);
  const median = quantileSorted(s, 0.5);
  const q3 = quantileSorted(s, 0.75);
  const iqr = q3 - q1;
  let sum = 0;
  for (const v of s) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of s) ss += (v - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const loLimit = q1 - 1.5 * iqr;
  const hiLimit = q3 + 1.5 * iqr;
  let lowerFence = q1;
  let upperFence = q3;
  const outliers: number[] = [];
  for (const v of s) {
    if (v < loLimit || v > hiLimit) outliers.push(v);
    else {
      if (v < lowerFence) lowerFence = v;
      if (v > upperFence) upperFence = v;
    }
  }
  return { n, min: s[0]!, q1, median, q3, max: s[n - 1]!, mean, sd, lowerFence, upperFence, outliers };
}
