/**
 * The pair table: for each posting, its candidate partners (the union of every member's top-k,
 * within its fold) with each member's cosine similarity to them. Tuning an ensemble only needs
 * this table, so weights and similarity thresholds can be searched in milliseconds per evaluation.
 * Every threshold here is a similarity (match when ≥), so its fields are named `minSimilarity`.
 *
 * Weighted similarity averaging scores a pair by Σ wₘ·simₘ / Σ wₘ. Concatenating L2-normalised
 * embeddings scaled by √wₘ gives exactly the same score for every pair, so "concatenation" is the
 * same rule with candidates taken from the concatenated embeddings' top-k (pass them as
 * `extraCandidates`).
 */

/** Neighbour lists (n × k row-major indices; -1 pads). */
export interface CandidateLists {
  indices: Int32Array;
  k: number;
}

/** One model (branch) of an ensemble. Give `embeddings` (dense, any scale) or `similarity`. */
export interface EnsembleMember {
  name: string;
  /** This member's top-k neighbour lists (self-search over the same postings). */
  neighbours: CandidateLists;
  /** Dense out-of-fold embeddings, n × dim row-major; cosine similarity is computed from them. */
  embeddings?: { data: Float32Array; dim: number };
  /** Similarity of postings i and j (bigger is closer), when there are no dense embeddings (e.g. sparse TF-IDF). */
  similarity?: (i: number, j: number) => number;
}

/** Candidate pairs with one similarity per member. Row i's pairs are cols[rowPtr[i] .. rowPtr[i+1]-1]. */
export interface PairTable {
  n: number;
  names: string[];
  rowPtr: Int32Array;
  cols: Int32Array;
  /** sims[m][p]: member m's similarity for pair p. */
  sims: Float32Array[];
  /** 1 when pair p's postings share a label. */
  same: Uint8Array;
  /** Each posting's true group size (itself included). */
  groupSize: Int32Array;
  /** Each posting's fold (all 0 when none were given). */
  folds: Int32Array;
}

/** Options for {@link buildPairTable}. */
export interface PairTableOptions {
  /** One fold id per posting; candidates never cross folds. Defaults to one fold. */
  folds?: ArrayLike<number>;
  /** Use only each member's first `topK` neighbours. Defaults to all of them. */
  topK?: number;
  /** More candidate lists to include (e.g. the concatenated embeddings' top-k). Defaults to none. */
  extraCandidates?: CandidateLists[];
}

function normalized(e: { data: Float32Array; dim: number }): Float32Array {
  const { data, dim } = e;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length / dim; i++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += data[i * dim + c]! * data[i * dim + c]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < dim; c++) out[i * dim + c] = data[i * dim + c]! * inv;
  }
  return out;
}

/**
 * Builds the pair table from members' neighbour lists and similarities.
 * @example const table = buildPairTable([{ name: "image", neighbours: nbImg, embeddings: { data: img, dim: 64 } }], labels);
 */
export function buildPairTable(members: readonly EnsembleMember[], labels: ArrayLike<number>, opts: PairTableOptions = {}): PairTable {
  const { folds, topK, extraCandidates = [] } = opts;
  const n = labels.length;
  if (members.length === 0) throw new Error("buildPairTable: no members given");
  if (folds && folds.length !== n) throw new Error(`buildPairTable: ${folds.length} fold ids for ${n} labels (expected one per posting)`);
  const names = members.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new Error(`buildPairTable: member names must be unique, got ${names.join(", ")}`);
  const sims: Array<(i: number, j: number) => number> = members.map((m) => {
    if (m.neighbours.indices.length !== n * m.neighbours.k) {
      throw new Error(`buildPairTable: member ${m.name} has ${m.neighbours.indices.length} neighbour entries; expected n × k = ${n} × ${m.neighbours.k}`);
    }
    if (m.embeddings) {
      const { dim } = m.embeddings;
      if (m.embeddings.data.length !== n * dim) throw new Error(`buildPairTable: member ${m.name} embeddings have ${m.embeddings.data.length} values; expected ${n} × ${dim}`);
      const x = normalized(m.embeddings);
      return (i: number, j: number) => {
        let s = 0;
        for (let c = 0; c < dim; c++) s += x[i * dim + c]! * x[j * dim + c]!;
        return s;
      };
    }
    if (m.similarity) return m.similarity;
    throw new Error(`buildPairTable: member ${m.name} needs embeddings or a similarity function`);
  });
  const lists = [...members.map((m) => m.neighbours), ...extraCandidates];
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const seen = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (const l of lists) {
      const kk = Math.min(l.k, topK ?? l.k);
      for (let t = 0; t < kk; t++) {
        const j = l.indices[i * l.k + t]!;
        if (j < 0 || j === i || seen[j] === i) continue;
        if (folds && folds[j] !== folds[i]) continue;
        seen[j] = i;
        cols.push(j);
      }
    }
    rowPtr[i + 1] = cols.length;
  }
  const colArr = Int32Array.from(cols);
  const simArr = members.map(() => new Float32Array(colArr.length));
  const same = new Uint8Array(colArr.length);
  for (let i = 0; i < n; i++) {
    for (let p = rowPtr[i]!; p < rowPtr[i + 1]!; p++) {
      const j = colArr[p]!;
      same[p] = labels[i] === labels[j] ? 1 : 0;
      for (let m = 0; m < sims.length; m++) simArr[m]![p] = sims[m]!(i, j);
    }
  }
  // true group size within the posting's fold (candidates never cross folds)
  const counts = new Map<string, number>();
  const groupSize = new Int32Array(n);
  const foldArr = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    foldArr[i] = folds ? folds[i]! : 0;
    const key = `${foldArr[i]}:${labels[i]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (let i = 0; i < n; i++) groupSize[i] = counts.get(`${foldArr[i]}:${labels[i]}`)!;
  return { n, names, rowPtr, cols: colArr, sims: simArr, same, groupSize, folds: foldArr };
}

/**
 * Keeps at most `maxPerRow` candidates per posting (those with the highest mean similarity), for
 * embedding the table in an HTML page. Scores on the pruned table can only drop recall.
 */
export function prunePairTable(t: PairTable, maxPerRow: number): PairTable {
  const M = t.sims.length;
  const keep: number[] = [];
  const rowPtr = new Int32Array(t.n + 1);
  for (let i = 0; i < t.n; i++) {
    const ps: number[] = [];
    for (let p = t.rowPtr[i]!; p < t.rowPtr[i + 1]!; p++) ps.push(p);
    const mean = (p: number) => {
      let s = 0;
      for (let m = 0; m < M; m++) s += t.sims[m]![p]!;
      return s / M;
    };
    ps.sort((a, b) => mean(b) - mean(a) || a - b);
    const kept = ps.slice(0, maxPerRow).sort((a, b) => a - b);
    keep.push(...kept);
    rowPtr[i + 1] = keep.length;
  }
  const pick = <A extends Float32Array | Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
    const out = make(keep.length);
    keep.forEach((p, q) => {
      out[q] = a[p]!;
    });
    return out;
  };
  return {
    n: t.n,
    names: [...t.names],
    rowPtr,
    cols: pick(t.cols, (n) => new Int32Array(n)),
    sims: t.sims.map((s) => pick(s, (n) => new Float32Array(n))),
    same: pick(t.same, (n) => new Uint8Array(n)),
    groupSize: t.groupSize.slice(),
    folds: t.folds.slice(),
  };
}

/**
 * The rule an ensemble applies to the pair table. Its thresholds are similarities (match when ≥);
 * for a cosine distance threshold d pass 1 − d (see asSimilarity in src/retrieval/threshold).
 */
export interface EnsembleParams {
  /** One non-negative weight per member (normalised internally; all-zero means equal weights). */
  weights: number[];
  /** Match when the weighted similarity is ≥ this (a similarity threshold). */
  minSimilarity: number;
  /** Per member: also match when that member's own similarity is ≥ this (the union of branches); null leaves the member out of the union. Defaults to none. */
  branchMinSimilarities?: Array<number | null>;
  /** Always match the best-scoring candidate when nothing else matched. Defaults to true. */
  min2?: boolean;
}

/** Mean match scores over the scored postings. */
export interface EnsembleScore {
  f1: number;
  precision: number;
  recall: number;
  /** Mean predicted set size (self included). */
  meanMatches: number;
  /** Postings scored. */
  count: number;
}

/**
 * Scores a rule on a pair table: mean per-posting F1, precision and recall (each posting matches
 * itself), over all postings or over those with `include[i] = 1`. Self-contained on purpose: the
 * interactive tuner embeds this function's source so the browser computes exactly the same numbers.
 */
export function scorePairTable(
  t: { n: number; rowPtr: Int32Array; cols: Int32Array; sims: Float32Array[]; same: Uint8Array; groupSize: Int32Array },
  params: { weights: number[]; minSimilarity: number; branchMinSimilarities?: Array<number | null>; min2?: boolean },
  include?: Uint8Array | null,
): { f1: number; precision: number; recall: number; meanMatches: number; count: number } {
  const M = t.sims.length;
  if (params.weights.length !== M) throw new Error(`scorePairTable: ${params.weights.length} weights for ${M} members`);
  if (!Number.isFinite(params.minSimilarity)) throw new Error(`scorePairTable: minSimilarity must be a finite similarity threshold, got ${params.minSimilarity}`);
  let wsum = 0;
  for (let m = 0; m < M; m++) wsum += Math.max(0, params.weights[m]!);
  const w = new Float64Array(M);
  for (let m = 0; m < M; m++) w[m] = wsum > 0 ? Math.max(0, params.weights[m]!) / wsum : 1 / M;
  const bt = params.branchMinSimilarities || [];
  const min2 = params.min2 !== false;
  let sf = 0;
  let sp = 0;
  let sr = 0;
  let sm = 0;
  let count = 0;
  for (let i = 0; i < t.n; i++) {
    if (include && !include[i]) continue;
    count++;
    let size = 1;
    let inter = 1;
    let bestS = Number.NEGATIVE_INFINITY;
    let bestSame = 0;
    for (let p = t.rowPtr[i]!; p < t.rowPtr[i + 1]!; p++) {
      let s = 0;
      let hit = false;
      for (let m = 0; m < M; m++) {
        const v = t.sims[m]![p]!;
        s += w[m]! * v;
        const b = bt[m];
        if (b !== null && b !== undefined && v >= b) hit = true;
      }
      if (s >= params.minSimilarity) hit = true;
      if (hit) {
        size++;
        inter += t.same[p]!;
      }
      if (s > bestS) {
        bestS = s;
        bestSame = t.same[p]!;
      }
    }
    if (min2 && size === 1 && bestS > Number.NEGATIVE_INFINITY) {
      size = 2;
      inter += bestSame;
    }
    const g = t.groupSize[i]!;
    sf += (2 * inter) / (size + g);
    sp += inter / size;
    sr += inter / g;
    sm += size;
  }
  const d = count > 0 ? count : 1;
  return { f1: sf / d, precision: sp / d, recall: sr / d, meanMatches: sm / d, count };
}

/** The match sets a rule gives (self included, ascending), for writing a submission. Thresholds are similarities (match when ≥). */
export function pairTableMatches(t: PairTable, params: EnsembleParams): Int32Array[] {
  const M = t.sims.length;
  if (!Number.isFinite(params.minSimilarity)) throw new Error(`pairTableMatches: minSimilarity must be a finite similarity threshold, got ${params.minSimilarity}`);
  const wsum = params.weights.reduce((s, x) => s + Math.max(0, x), 0);
  const w = params.weights.map((x) => (wsum > 0 ? Math.max(0, x) / wsum : 1 / M));
  const bt = params.branchMinSimilarities ?? [];
  const out: Int32Array[] = [];
  for (let i = 0; i < t.n; i++) {
    const set = [i];
    let best = -1;
    let bestS = Number.NEGATIVE_INFINITY;
    for (let p = t.rowPtr[i]!; p < t.rowPtr[i + 1]!; p++) {
      let s = 0;
      let hit = false;
      for (let m = 0; m < M; m++) {
        const v = t.sims[m]![p]!;
        s += w[m]! * v;
        const b = bt[m];
        if (b !== null && b !== undefined && v >= b) hit = true;
      }
      if (s >= params.minSimilarity || hit) set.push(t.cols[p]!);
      if (s > bestS) {
        bestS = s;
        best = t.cols[p]!;
      }
    }
    if (params.min2 !== false && set.length === 1 && best >= 0) set.push(best);
    out.push(Int32Array.from(set).sort());
  }
  return out;
}
