/**
 * Matching metrics, as in the Shopee competition: each posting's predicted match set is compared
 * with its true group (the postings sharing its label, itself included), and F1, precision and
 * recall are averaged over postings. Retrieval metrics (precision@1, MAP@R) score ranked
 * neighbour lists. Pure functions over typed arrays.
 */

/** Predicted matches: for each posting, the indices of the postings it is matched with. */
export type MatchSets = ReadonlyArray<ArrayLike<number>>;

/** Options for {@link matchScores}. */
export interface MatchScoreOptions {
  /** Add the posting itself to its predicted set (the competition's rule: a posting always matches itself). Defaults to true. */
  addSelf?: boolean;
}

/** Mean and per-posting match scores. */
export interface MatchScores {
  /** Mean over postings of 2|P∩T| / (|P| + |T|). */
  f1: number;
  /** Mean over postings of |P∩T| / |P| (0 when P is empty). */
  precision: number;
  /** Mean over postings of |P∩T| / |T|. */
  recall: number;
  /** Per-posting values. */
  perPosting: { f1: Float64Array; precision: Float64Array; recall: Float64Array };
}

/** Group index → member indices, from one label per posting. */
export function groupMembers(labels: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const g = labels[i]!;
    let m = groups.get(g);
    if (!m) {
      m = [];
      groups.set(g, m);
    }
    m.push(i);
  }
  return groups;
}

/** The size of each posting's true group (itself included). */
export function groupSizes(labels: ArrayLike<number>): Int32Array {
  const count = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) count.set(labels[i]!, (count.get(labels[i]!) ?? 0) + 1);
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = count.get(labels[i]!)!;
  return out;
}

/**
 * Mean per-posting F1, precision and recall of predicted match sets against true groups.
 * Duplicate indices in a predicted set count once.
 * @example matchScores([[0, 1], [1], [2]], [5, 5, 7]).f1 // (1 + 2/3 + 1) / 3
 */
export function matchScores(pred: MatchSets, labels: ArrayLike<number>, opts: MatchScoreOptions = {}): MatchScores {
  const { addSelf = true } = opts;
  const n = labels.length;
  if (pred.length !== n) throw new Error(`matchScores: ${pred.length} predicted sets for ${n} labels (expected one per posting)`);
  const sizes = groupSizes(labels);
  const f1 = new Float64Array(n);
  const precision = new Float64Array(n);
  const recall = new Float64Array(n);
  const seen = new Int32Array(n).fill(-1);
  let sf = 0;
  let sp = 0;
  let sr = 0;
  for (let i = 0; i < n; i++) {
    const p = pred[i]!;
    let size = 0;
    let inter = 0;
    const visit = (j: number) => {
      if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`matchScores: posting ${i} lists index ${j}, outside [0, ${n})`);
      if (seen[j] === i) return;
      seen[j] = i;
      size++;
      if (labels[j] === labels[i]) inter++;
    };
    if (addSelf) visit(i);
    for (let t = 0; t < p.length; t++) visit(p[t]!);
    const t = sizes[i]!;
    f1[i] = (2 * inter) / (size + t);
    precision[i] = size === 0 ? 0 : inter / size;
    recall[i] = inter / t;
    sf += f1[i]!;
    sp += precision[i]!;
    sr += recall[i]!;
  }
  const d = Math.max(1, n);
  return { f1: sf / d, precision: sp / d, recall: sr / d, perPosting: { f1, precision, recall } };
}

/** Mean F1 over postings; shorthand for `matchScores(pred, labels, opts).f1`. */
export function matchF1(pred: MatchSets, labels: ArrayLike<number>, opts: MatchScoreOptions = {}): number {
  return matchScores(pred, labels, opts).f1;
}

/** One row of {@link f1ByGroupSize}. */
export interface GroupSizeF1 {
  /** True group size (the posting itself included). */
  size: number;
  /** Postings in groups of this size. */
  count: number;
  f1: number;
  precision: number;
  recall: number;
}

/** The means over one bucket of postings (see meansBySize). */
type BucketMeans = { count: number; groups: number; f1: number; precision: number; recall: number };

/**
 * Means of the per-posting F1, precision and recall over the postings of each bucket, where a
 * posting's bucket is `bucketOf` its true group size; also the postings and the groups (Σ 1/size) in it.
 */
function meansBySize(scores: MatchScores, labels: ArrayLike<number>, bucketOf: (size: number) => number, where: string): Map<number, BucketMeans> {
  const sizes = groupSizes(labels);
  if (scores.perPosting.f1.length !== sizes.length) {
    throw new Error(`${where}: scores cover ${scores.perPosting.f1.length} postings but there are ${sizes.length} labels`);
  }
  const acc = new Map<number, BucketMeans>();
  for (let i = 0; i < sizes.length; i++) {
    const b = bucketOf(sizes[i]!);
    let r = acc.get(b);
    if (!r) {
      r = { count: 0, groups: 0, f1: 0, precision: 0, recall: 0 };
      acc.set(b, r);
    }
    r.count++;
    r.groups += 1 / sizes[i]!;
    r.f1 += scores.perPosting.f1[i]!;
    r.precision += scores.perPosting.precision[i]!;
    r.recall += scores.perPosting.recall[i]!;
  }
  for (const r of acc.values()) {
    r.f1 /= r.count;
    r.precision /= r.count;
    r.recall /= r.count;
  }
  return acc;
}

/**
 * Mean F1, precision and recall broken down by true group size, smallest first.
 * @example f1ByGroupSize(matchScores(pred, labels), labels)
 */
export function f1ByGroupSize(scores: MatchScores, labels: ArrayLike<number>): GroupSizeF1[] {
  return [...meansBySize(scores, labels, (size) => size, "f1ByGroupSize")]
    .sort((a, b) => a[0] - b[0])
    .map(([size, { count, f1, precision, recall }]) => ({ size, count, f1, precision, recall }));
}

/** One row of {@link f1BySizeBand}: the postings whose true group size lies in [from, to]. */
export interface SizeBandF1 extends Omit<GroupSizeF1, "size"> {
  /** Smallest group size in the band. */
  from: number;
  /** Largest group size in the band. */
  to: number;
  /** Groups in the band (postings / size, summed over its sizes). */
  groups: number;
}

/**
 * {@link f1ByGroupSize} gathered into bands of group size that double: 1, 2, 3–4, 5–8, 9–16, …
 * (only the bands that hold postings), each the mean over its postings. Sizes on a dataset like
 * Shopee's run from 2 to over 1,000, so one row per size is too many to read.
 * @example f1BySizeBand(matchScores(pred, labels), labels) // [{ from: 2, to: 2, … }, { from: 3, to: 4, … }, …]
 */
export function f1BySizeBand(scores: MatchScores, labels: ArrayLike<number>): SizeBandF1[] {
  const top = (size: number) => (size <= 1 ? 1 : 2 ** Math.ceil(Math.log2(size)));
  return [...meansBySize(scores, labels, top, "f1BySizeBand")]
    .sort((a, b) => a[0] - b[0])
    .map(([to, r]) => ({ from: to <= 2 ? to : to / 2 + 1, to, ...r }));
}

/** Ranked neighbour lists: row i of `indices` (n × k, row-major) lists posting i's neighbours, best first; -1 pads. */
export interface RankedNeighbours {
  indices: Int32Array;
  k: number;
}

function checkRanked(nb: RankedNeighbours, n: number, where: string): void {
  if (!Number.isInteger(nb.k) || nb.k < 1 || nb.indices.length !== n * nb.k) {
    throw new Error(`${where}: indices has ${nb.indices.length} entries; expected n × k = ${n} × ${nb.k}`);
  }
}

/** Options for {@link precisionAt1} and {@link mapAtR}. */
export interface RankedMetricOptions {
  /** Drop the query itself from its neighbour list before scoring. Defaults to true. */
  excludeSelf?: boolean;
}

/**
 * The fraction of postings whose nearest neighbour (other than itself) shares its label.
 * Postings whose group has no other member are skipped; returns 0 when none remain.
 */
export function precisionAt1(nb: RankedNeighbours, labels: ArrayLike<number>, opts: RankedMetricOptions = {}): number {
  const { excludeSelf = true } = opts;
  const n = labels.length;
  checkRanked(nb, n, "precisionAt1");
  const sizes = groupSizes(labels);
  let hit = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    if (sizes[i]! < 2) continue;
    q++;
    for (let t = 0; t < nb.k; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j < 0 || (excludeSelf && j === i)) continue;
      if (labels[j] === labels[i]) hit++;
      break;
    }
  }
  return q === 0 ? 0 : hit / q;
}

/**
 * MAP@R (Musgrave et al., "A Metric Learning Reality Check"): for each query with R = group size − 1
 * other relevant postings, the mean over the first R ranks of precision@i at each relevant rank i,
 * divided by R. Neighbours beyond the list's end count as misses. Queries with R = 0 are skipped.
 */
export function mapAtR(nb: RankedNeighbours, labels: ArrayLike<number>, opts: RankedMetricOptions = {}): number {
  const { excludeSelf = true } = opts;
  const n = labels.length;
  checkRanked(nb, n, "mapAtR");
  const sizes = groupSizes(labels);
  let total = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const r = sizes[i]! - 1;
    if (r < 1) continue;
    q++;
    let rank = 0;
    let rel = 0;
    let ap = 0;
    for (let t = 0; t < nb.k && rank < r; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j < 0 || (excludeSelf && j === i)) continue;
      rank++;
      if (labels[j] === labels[i]) {
        rel++;
        ap += rel / rank;
      }
    }
    total += ap / r;
  }
  return q === 0 ? 0 : total / q;
}
