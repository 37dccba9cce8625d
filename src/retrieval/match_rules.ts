/**
 * Match rules: from neighbour lists to match sets. A maximum distance per branch; the "min-2" rule
 * (always at least one neighbour besides self); union and intersection across branches; exact-key
 * branches (identical phash, identical normalised title); and neighbourhood blending (INB / query
 * expansion). Every match set includes the posting itself, sorted ascending.
 */
import { wordTokens } from "../models/text";
import { type KnnMetric, type KnnOptions, type KnnResult, knnSearch } from "./knn";
import { l2NormalizeRows, rowCount } from "./vectors";

/** Match sets: entry i lists the postings matched with posting i (itself included), ascending. */
export type MatchList = Int32Array[];

/** Options for {@link thresholdMatches}. */
export interface ThresholdMatchOptions {
  /**
   * Keep neighbours with distance ≤ this (a distance threshold, in the neighbour lists' own metric;
   * for cosine, distance = 1 − similarity, see asDistance in ./threshold). Required.
   */
  maxDistance: number;
  /** Always keep the nearest neighbour besides self, whatever its distance (the top solutions' "min-2"). Defaults to true. */
  min2?: boolean;
  /** Keep at most this many matches besides self. Defaults to no limit (k − 1). */
  maxMatches?: number;
}

/**
 * One branch's match sets: neighbours at distance ≤ `maxDistance`, plus self, plus (min-2) the
 * nearest other neighbour when none passed.
 * @example const sets = thresholdMatches(nb, { maxDistance: 0.4 }); // cosine: similarity ≥ 0.6
 */
export function thresholdMatches(nb: KnnResult, opts: ThresholdMatchOptions): MatchList {
  const { maxDistance, min2 = true, maxMatches = Number.POSITIVE_INFINITY } = opts;
  if ("threshold" in opts) throw new Error("thresholdMatches: the option `threshold` is now `maxDistance` (match when distance ≤ maxDistance)");
  if (!Number.isFinite(maxDistance)) throw new Error(`thresholdMatches: maxDistance must be a finite number, got ${maxDistance}`);
  const out: MatchList = [];
  for (let i = 0; i < nb.n; i++) {
    const set: number[] = [i];
    let firstOther = -1;
    for (let t = 0; t < nb.k; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j < 0 || j === i) continue;
      if (firstOther < 0) firstOther = j;
      if (nb.distances[i * nb.k + t]! <= maxDistance && set.length - 1 < maxMatches) set.push(j);
    }
    if (min2 && set.length === 1 && firstOther >= 0) set.push(firstOther);
    out.push(Int32Array.from(set).sort());
  }
  return out;
}

/** Which way to combine branches. */
export type CombineMode = "union" | "intersection";

/**
 * Combines per-branch match sets posting by posting. Intersection keeps self always.
 * @example combineMatches([imageSets, textSets], "union")
 */
export function combineMatches(branches: readonly MatchList[], mode: CombineMode = "union"): MatchList {
  if (branches.length === 0) throw new Error("combineMatches: no branches given");
  const n = branches[0]!.length;
  branches.forEach((b, i) => {
    if (b.length !== n) throw new Error(`combineMatches: branch ${i} has ${b.length} postings, branch 0 has ${n} (expected equal)`);
  });
  const out: MatchList = [];
  for (let i = 0; i < n; i++) {
    let acc: Set<number>;
    switch (mode) {
      case "union":
        acc = new Set<number>([i]);
        for (const b of branches) for (const j of b[i]!) acc.add(j);
        break;
      case "intersection": {
        acc = new Set<number>(branches[0]![i]!);
        for (const b of branches.slice(1)) {
          const s = new Set(b[i]!);
          for (const j of acc) if (!s.has(j)) acc.delete(j);
        }
        acc.add(i);
        break;
      }
      default:
        throw new Error(`unknown combine mode: ${mode as string} (expected union|intersection)`);
    }
    out.push(Int32Array.from(acc).sort());
  }
  return out;
}

/** Applies min-2 to finished match sets: a posting matched only with itself gets its nearest neighbour from `nb`. */
export function applyMin2(sets: MatchList, nb: KnnResult): MatchList {
  return sets.map((s, i) => {
    if (s.length > 1) return s;
    for (let t = 0; t < nb.k; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j >= 0 && j !== i) return Int32Array.from([i, j]).sort();
    }
    return s;
  });
}

/**
 * Matches postings that share a non-empty key exactly (an exact-phash or exact-title branch).
 * Keys equal to "" match nothing. Groups larger than `maxGroup` are ignored (a key shared by
 * hundreds of postings is a placeholder, not a product).
 * @example exactKeyMatches(listings.map((l) => l.imagePhash))
 */
export function exactKeyMatches(keys: readonly string[], opts: { maxGroup?: number } = {}): MatchList {
  const { maxGroup = 50 } = opts;
  const byKey = new Map<string, number[]>();
  keys.forEach((k, i) => {
    if (k === "") return;
    const m = byKey.get(k);
    if (m) m.push(i);
    else byKey.set(k, [i]);
  });
  return keys.map((k, i) => {
    const m = k === "" ? undefined : byKey.get(k);
    return m && m.length <= maxGroup ? Int32Array.from(m) : Int32Array.of(i);
  });
}

/** A title normalised for exact matching: lower case, word tokens joined by one space. */
export function normalizeTitle(title: string): string {
  return wordTokens(title).join(" ");
}

/** Options for {@link neighbourhoodBlend}. */
export interface BlendOptions {
  /** Neighbours (self included) averaged into each row. Defaults to 3. */
  topK?: number;
  /** Only neighbours with cosine similarity ≥ this take part (self always does). Defaults to 0. */
  minSimilarity?: number;
  /** Raise similarities to this power before weighting (higher favours close neighbours). Defaults to 1. */
  power?: number;
}

/**
 * One stage of neighbourhood blending (query expansion): each row becomes the similarity-weighted
 * sum of its top neighbours' rows (self included), renormalised. `nb` must be a cosine self-search.
 * @example const blended = neighbourhoodBlend(emb, dim, await knnSearch(emb, dim, { k: 10 }));
 */
export function neighbourhoodBlend(data: Float32Array, dim: number, nb: KnnResult, opts: BlendOptions = {}): Float32Array {
  const { topK = 3, minSimilarity = 0, power = 1 } = opts;
  const n = rowCount(data, dim, "neighbourhoodBlend");
  if (nb.metric !== "cosine") throw new Error(`neighbourhoodBlend: neighbour lists must be cosine, got ${nb.metric}`);
  if (nb.n !== n) throw new Error(`neighbourhoodBlend: ${nb.n} neighbour rows for ${n} embeddings (expected a self-search)`);
  const x = l2NormalizeRows(data, dim);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = out.subarray(i * dim, (i + 1) * dim);
    let selfSeen = false;
    let used = 0;
    for (let t = 0; t < nb.k && used < topK; t++) {
      const j = nb.indices[i * nb.k + t]!;
      if (j < 0) break;
      const s = 1 - nb.distances[i * nb.k + t]!;
      if (j !== i && s < minSimilarity) continue;
      if (j === i) selfSeen = true;
      const w = Math.max(0, s) ** power;
      for (let c = 0; c < dim; c++) o[c]! += w * x[j * dim + c]!;
      used++;
    }
    if (!selfSeen) for (let c = 0; c < dim; c++) o[c]! += x[i * dim + c]!;
  }
  return l2NormalizeRows(out, dim);
}

/** Options for {@link iterativeBlend}. */
export interface IterativeBlendOptions extends BlendOptions {
  /** Blend–search stages (the 1st place used 3). Defaults to 3. */
  stages?: number;
  /** kNN options for each search (k defaults to 50, metric is always cosine). */
  knn?: Omit<KnnOptions, "metric" | "queries">;
  /** One fold id per row: search (and so blend) only within each fold, as for out-of-fold embeddings. Defaults to none. */
  folds?: ArrayLike<number>;
}

/**
 * Iterative neighbourhood blending (INB): search, blend, renormalise, search again, `stages` times.
 * Returns the final embeddings and their neighbour lists.
 */
export async function iterativeBlend(
  data: Float32Array,
  dim: number,
  opts: IterativeBlendOptions = {},
): Promise<{ embeddings: Float32Array; neighbours: KnnResult }> {
  const { stages = 3, knn = {}, folds, ...blend } = opts;
  if (!Number.isInteger(stages) || stages < 0) throw new Error(`iterativeBlend: stages must be a non-negative integer, got ${stages}`);
  const search = (x: Float32Array) =>
    folds ? knnWithinFolds(x, dim, folds, { label: null, ...knn, metric: "cosine" }) : knnSearch(x, dim, { label: null, ...knn, metric: "cosine" });
  let x = l2NormalizeRows(data, dim);
  let nb = await search(x);
  for (let s = 0; s < stages; s++) {
    x = neighbourhoodBlend(x, dim, nb, blend);
    nb = await search(x);
  }
  return { embeddings: x, neighbours: nb };
}

/**
 * Exact kNN run separately inside each fold (validation postings match only postings of their own
 * fold, as in grouped CV); indices are global row numbers. Rows with fold < 0 get no neighbours.
 */
export async function knnWithinFolds(data: Float32Array, dim: number, folds: ArrayLike<number>, opts: KnnOptions = {}): Promise<KnnResult> {
  const n = rowCount(data, dim, "knnWithinFolds");
  if (folds.length !== n) throw new Error(`knnWithinFolds: ${folds.length} fold ids for ${n} rows (expected one per row)`);
  if (opts.queries) throw new Error("knnWithinFolds: queries are not supported (it is a self-search within folds)");
  const k = opts.k ?? 50;
  const metric: KnnMetric = opts.metric ?? "cosine";
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Number.POSITIVE_INFINITY);
  const ids = [...new Set(Array.from(folds))].filter((f) => f >= 0).sort((a, b) => a - b);
  let engine = "";
  for (const f of ids) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (folds[i] === f) rows.push(i);
    const sub = new Float32Array(rows.length * dim);
    for (let t = 0; t < rows.length; t++) sub.set(data.subarray(rows[t]! * dim, (rows[t]! + 1) * dim), t * dim);
    const r = await knnSearch(sub, dim, { ...opts, k, metric, label: opts.label === null ? null : `${opts.label ?? "knn"} fold ${f}` });
    engine = r.engine;
    for (let t = 0; t < rows.length; t++) {
      const row = rows[t]!;
      for (let c = 0; c < k; c++) {
        const j = r.indices[t * k + c]!;
        indices[row * k + c] = j < 0 ? -1 : rows[j]!;
        distances[row * k + c] = r.distances[t * k + c]!;
      }
    }
  }
  return { n, k, metric, indices, distances, engine };
}
