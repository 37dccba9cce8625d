/**
 * Distance thresholds and pair-distance analysis: the F1 curve of one branch over maximum
 * distances, the distance distributions of right (same group) and wrong neighbour pairs, their
 * overlap, and a danfo table of them per branch and fold. Every threshold here is a distance
 * (match when distance ≤ it), so its fields are named `maxDistance`; see ./threshold for the
 * similarity form.
 */
import { DataFrame } from "danfojs-node";
import { matchScores } from "../metrics/matching";
import type { KnnResult } from "./knn";
import { thresholdMatches } from "./match_rules";

/** One point of an F1 curve over distance thresholds. */
export interface ThresholdPoint {
  /** The distance threshold: neighbours at distance ≤ this match. */
  maxDistance: number;
  f1: number;
  precision: number;
  recall: number;
}

/** Options for {@link bestThreshold}. */
export interface BestThresholdOptions {
  /** Maximum distances to try. Defaults to 41 steps over the observed distance range. */
  maxDistances?: readonly number[];
  /** Apply the min-2 rule. Defaults to true. */
  min2?: boolean;
  /** Score only these postings (e.g. one fold); all postings still count as candidates. Defaults to all. */
  subset?: ArrayLike<number>;
}

/** The best distance threshold of a branch and the curve it was picked from. */
export interface BestThreshold {
  /** The best distance threshold: neighbours at distance ≤ this match (cosine similarity ≥ 1 − this). */
  maxDistance: number;
  f1: number;
  curve: ThresholdPoint[];
}

/** Evenly spaced numbers from lo to hi inclusive. */
export function linspace(lo: number, hi: number, steps: number): number[] {
  if (steps < 2) return [lo];
  return Array.from({ length: steps }, (_, i) => lo + ((hi - lo) * i) / (steps - 1));
}

function defaultThresholds(nb: KnnResult): number[] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < nb.n; i++) {
    for (let t = 0; t < nb.k; t++) {
      const j = nb.indices[i * nb.k + t]!;
      const d = nb.distances[i * nb.k + t]!;
      if (j < 0 || j === i || !Number.isFinite(d)) continue;
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
  }
  if (!Number.isFinite(lo)) return [0];
  return linspace(lo, hi, 41);
}

/**
 * Sweeps distance thresholds and returns the one with the best mean match F1 as `maxDistance`
 * (match when distance ≤ maxDistance), with the curve. Ties go to the smaller distance.
 * @example const { maxDistance, f1, curve } = bestThreshold(nb, labels);
 */
export function bestThreshold(nb: KnnResult, labels: ArrayLike<number>, opts: BestThresholdOptions = {}): BestThreshold {
  const { min2 = true, subset } = opts;
  if ("thresholds" in opts) throw new Error("bestThreshold: the option `thresholds` is now `maxDistances` (distances: match when ≤)");
  const maxDistances = opts.maxDistances ?? defaultThresholds(nb);
  if (maxDistances.length === 0) throw new Error("bestThreshold: no maxDistances to try");
  if (nb.n !== labels.length) throw new Error(`bestThreshold: ${nb.n} neighbour rows for ${labels.length} labels (expected equal)`);
  const curve: ThresholdPoint[] = [];
  let best: ThresholdPoint | null = null;
  for (const maxDistance of maxDistances) {
    const s = matchScores(thresholdMatches(nb, { maxDistance, min2 }), labels);
    let p: ThresholdPoint;
    if (subset) {
      let f = 0;
      let pr = 0;
      let rc = 0;
      for (let t = 0; t < subset.length; t++) {
        const i = subset[t]!;
        f += s.perPosting.f1[i]!;
        pr += s.perPosting.precision[i]!;
        rc += s.perPosting.recall[i]!;
      }
      const m = Math.max(1, subset.length);
      p = { maxDistance, f1: f / m, precision: pr / m, recall: rc / m };
    } else {
      p = { maxDistance, f1: s.f1, precision: s.precision, recall: s.recall };
    }
    curve.push(p);
    if (!best || p.f1 > best.f1) best = p;
  }
  return { maxDistance: best!.maxDistance, f1: best!.f1, curve };
}

/** Distances of neighbour pairs split by whether the two postings share a group. */
export interface PairDistances {
  /** Distances of same-group neighbour pairs (self excluded). */
  matched: Float32Array;
  /** Distances of different-group neighbour pairs. */
  unmatched: Float32Array;
  /** The query row of each matched / unmatched pair. */
  matchedRows: Int32Array;
  unmatchedRows: Int32Array;
}

/** Collects the distances of every (query, neighbour) pair in the lists, self excluded, by match. */
export function pairDistances(nb: KnnResult, labels: ArrayLike<number>): PairDistances {
  if (nb.n !== labels.length) throw new Error(`pairDistances: ${nb.n} neighbour rows for ${labels.length} labels (expected equal)`);
  const m: number[] = [];
  const u: number[] = [];
  const mr: number[] = [];
  const ur: number[] = [];
  for (let i = 0; i < nb.n; i++) {
    for (let t = 0; t < nb.k; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j < 0 || j === i) continue;
      const d = nb.distances[i * nb.k + t]!;
      if (labels[j] === labels[i]) {
        m.push(d);
        mr.push(i);
      } else {
        u.push(d);
        ur.push(i);
      }
    }
  }
  return { matched: Float32Array.from(m), unmatched: Float32Array.from(u), matchedRows: Int32Array.from(mr), unmatchedRows: Int32Array.from(ur) };
}

/**
 * The overlap of two distributions: the shared area of their normalised histograms over common
 * bins (0 = fully separated, 1 = identical).
 */
export function distributionOverlap(a: ArrayLike<number>, b: ArrayLike<number>, bins = 50): number {
  if (a.length === 0 || b.length === 0) return 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const arr of [a, b]) {
    for (let i = 0; i < arr.length; i++) {
      if (arr[i]! < lo) lo = arr[i]!;
      if (arr[i]! > hi) hi = arr[i]!;
    }
  }
  const w = hi > lo ? (hi - lo) / bins : 1;
  const hist = (arr: ArrayLike<number>) => {
    const h = new Float64Array(bins);
    for (let i = 0; i < arr.length; i++) h[Math.min(bins - 1, Math.floor((arr[i]! - lo) / w))]! += 1 / arr.length;
    return h;
  };
  const ha = hist(a);
  const hb = hist(b);
  let s = 0;
  for (let i = 0; i < bins; i++) s += Math.min(ha[i]!, hb[i]!);
  return s;
}

/** One branch's neighbour lists for {@link pairDistanceFrame}. */
export interface DistanceBranch {
  name: string;
  neighbours: KnnResult;
}

/**
 * A danfo DataFrame with one row per neighbour pair: branch, fold, distance, matched (0/1).
 * `folds` (one id per posting) defaults to all 0. `maxPairs` caps the rows per branch, taking
 * every m-th pair so the distributions keep their shape. Defaults to 200,000.
 */
export function pairDistanceFrame(branches: readonly DistanceBranch[], labels: ArrayLike<number>, opts: { folds?: ArrayLike<number>; maxPairs?: number } = {}): DataFrame {
  const { folds, maxPairs = 200_000 } = opts;
  const branch: string[] = [];
  const fold: number[] = [];
  const distance: number[] = [];
  const matched: number[] = [];
  for (const b of branches) {
    const p = pairDistances(b.neighbours, labels);
    const total = p.matched.length + p.unmatched.length;
    const step = Math.max(1, Math.ceil(total / maxPairs));
    const push = (d: Float32Array, rows: Int32Array, m: number) => {
      for (let i = 0; i < d.length; i += step) {
        branch.push(b.name);
        fold.push(folds ? folds[rows[i]!]! : 0);
        distance.push(d[i]!);
        matched.push(m);
      }
    };
    push(p.matched, p.matchedRows, 1);
    push(p.unmatched, p.unmatchedRows, 0);
  }
  return new DataFrame({ branch, fold, distance, matched });
}

/** One row of {@link distanceSummary}. */
export interface DistanceSummaryRow {
  branch: string;
  fold: number | "all";
  matchedMedian: number;
  unmatchedMedian: number;
  /** unmatched median − matched median. */
  gap: number;
  overlap: number;
  /** The best distance threshold (see {@link BestThreshold.maxDistance}). */
  bestMaxDistance: number;
  bestF1: number;
}

function median(a: Float32Array): number {
  if (a.length === 0) return Number.NaN;
  const s = Float32Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Per branch and fold: median matched and unmatched distance, their gap and overlap, and the
 * best distance threshold (`bestMaxDistance`) with its F1 (each fold scored on its own postings),
 * as a danfo DataFrame. `maxDistances` are the distance thresholds to try (defaults as in
 * {@link bestThreshold}).
 */
export function distanceSummary(branches: readonly DistanceBranch[], labels: ArrayLike<number>, opts: { folds?: ArrayLike<number>; maxDistances?: readonly number[] } = {}): DataFrame {
  const { folds, maxDistances } = opts;
  const rows: DistanceSummaryRow[] = [];
  const foldIds = folds ? [...new Set(Array.from(folds))].sort((a, b) => a - b) : [];
  for (const b of branches) {
    const p = pairDistances(b.neighbours, labels);
    const all = bestThreshold(b.neighbours, labels, maxDistances ? { maxDistances } : {});
    const th = all.curve.map((c) => c.maxDistance);
    const row = (fold: number | "all", m: Float32Array, u: Float32Array, best: BestThreshold) => {
      const mm = median(m);
      const um = median(u);
      rows.push({ branch: b.name, fold, matchedMedian: mm, unmatchedMedian: um, gap: um - mm, overlap: distributionOverlap(m, u), bestMaxDistance: best.maxDistance, bestF1: best.f1 });
    };
    row("all", p.matched, p.unmatched, all);
    for (const f of foldIds) {
      const inFold = (rowsOf: Int32Array, d: Float32Array) => d.filter((_, i) => folds![rowsOf[i]!] === f);
      const subset: number[] = [];
      for (let i = 0; i < labels.length; i++) if (folds![i] === f) subset.push(i);
      row(f, inFold(p.matchedRows, p.matched), inFold(p.unmatchedRows, p.unmatched), bestThreshold(b.neighbours, labels, { maxDistances: th, subset }));
    }
  }
  return new DataFrame(rows.map((r) => ({ ...r, fold: String(r.fold) })));
}
