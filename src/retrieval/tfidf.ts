/**
 * TF-IDF title vectors (sparse, scikit-learn's smooth idf and L2 norm) and an exact cosine kNN
 * over them through an inverted index: the text branch of the classic Shopee baseline.
 */
import { wordTokens } from "../models/text";
import { progress } from "../progress";
import type { KnnResult } from "./knn";

/** Sparse rows in CSR form. */
export interface SparseRows {
  /** Row r spans entries indptr[r] .. indptr[r+1]-1. */
  indptr: Int32Array;
  /** Column (term) of each entry, ascending within a row. */
  indices: Int32Array;
  values: Float32Array;
  /** Number of columns (vocabulary size). */
  cols: number;
}

/** Options for {@link tfidfVectors}. */
export interface TfidfOptions {
  /** Word n-gram range [min, max]. Defaults to [1, 1]. */
  ngrams?: [number, number];
  /** Ignore terms found in fewer documents. Defaults to 1. */
  minDf?: number;
  /** Ignore terms found in more than this fraction of documents. Defaults to 0.5. */
  maxDfRatio?: number;
  /** Use 1 + log(tf) instead of raw counts. Defaults to false. */
  sublinearTf?: boolean;
}

/** A fitted TF-IDF model and the vectors of the texts it was fitted on. */
export interface TfidfModel {
  vocabulary: Map<string, number>;
  idf: Float32Array;
  vectors: SparseRows;
}

function terms(text: string, lo: number, hi: number): string[] {
  const w = wordTokens(text);
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) for (let i = 0; i + n <= w.length; i++) out.push(w.slice(i, i + n).join(" "));
  return out;
}

/**
 * Fits TF-IDF on `texts` and returns the L2-normalised sparse vectors. idf = ln((1 + n) / (1 + df)) + 1.
 * @example const { vectors } = tfidfVectors(listings.map((l) => l.title));
 */
export function tfidfVectors(texts: readonly string[], opts: TfidfOptions = {}): TfidfModel {
  const { ngrams = [1, 1], minDf = 1, maxDfRatio = 0.5, sublinearTf = false } = opts;
  const [lo, hi] = ngrams;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo)) throw new Error(`tfidfVectors: ngrams must be [min, max] with 1 ≤ min ≤ max, got [${lo}, ${hi}]`);
  const n = texts.length;
  const docTerms = texts.map((t) => terms(t, lo, hi));
  const df = new Map<string, number>();
  for (const d of docTerms) for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  const maxDf = Math.max(1, Math.floor(maxDfRatio * n));
  const vocabulary = new Map<string, number>();
  for (const t of [...df.keys()].sort()) {
    const c = df.get(t)!;
    if (c >= minDf && (c <= maxDf || n < 3)) vocabulary.set(t, vocabulary.size);
  }
  const idf = new Float32Array(vocabulary.size);
  for (const [t, j] of vocabulary) idf[j] = Math.log((1 + n) / (1 + df.get(t)!)) + 1;
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  docTerms.forEach((d, r) => {
    const counts = new Map<number, number>();
    for (const t of d) {
      const j = vocabulary.get(t);
      if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    const cols = [...counts.keys()].sort((a, b) => a - b);
    let norm = 0;
    const vs = cols.map((j) => {
      const tf = counts.get(j)!;
      const v = (sublinearTf ? 1 + Math.log(tf) : tf) * idf[j]!;
      norm += v * v;
      return v;
    });
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    cols.forEach((j, c) => {
      idx.push(j);
      val.push(vs[c]! * inv);
    });
    indptr[r + 1] = idx.length;
  });
  return { vocabulary, idf, vectors: { indptr, indices: Int32Array.from(idx), values: Float32Array.from(val), cols: vocabulary.size } };
}

/** The dot product of sparse rows a and b (cosine similarity for L2-normalised rows). */
export function sparseDot(m: SparseRows, a: number, b: number): number {
  let i = m.indptr[a]!;
  let j = m.indptr[b]!;
  const ie = m.indptr[a + 1]!;
  const je = m.indptr[b + 1]!;
  let s = 0;
  while (i < ie && j < je) {
    const ci = m.indices[i]!;
    const cj = m.indices[j]!;
    if (ci === cj) {
      s += m.values[i++]! * m.values[j++]!;
    } else if (ci < cj) i++;
    else j++;
  }
  return s;
}

/**
 * Exact cosine kNN among L2-normalised sparse rows (self-search) via an inverted index. Rows that
 * share no term are never neighbours, so short lists are padded with -1 / Infinity. With `folds`
 * (one id per row), rows only find rows of their own fold.
 * @example const nb = sparseKnn(tfidfVectors(titles).vectors, { k: 50 });
 */
export function sparseKnn(m: SparseRows, opts: { k?: number; label?: string | null; folds?: ArrayLike<number> } = {}): KnnResult {
  const { k = 50, label = "tfidf knn", folds } = opts;
  const n = m.indptr.length - 1;
  // inverted index: term → rows
  const colCount = new Int32Array(m.cols + 1);
  for (let e = 0; e < m.indices.length; e++) colCount[m.indices[e]! + 1]!++;
  for (let c = 0; c < m.cols; c++) colCount[c + 1]! += colCount[c]!;
  const postRow = new Int32Array(m.indices.length);
  const postVal = new Float32Array(m.indices.length);
  const fill = colCount.slice(0, m.cols);
  for (let r = 0; r < n; r++) {
    for (let e = m.indptr[r]!; e < m.indptr[r + 1]!; e++) {
      const c = m.indices[e]!;
      postRow[fill[c]!] = r;
      postVal[fill[c]!] = m.values[e]!;
      fill[c]!++;
    }
  }
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Number.POSITIVE_INFINITY);
  const acc = new Float32Array(n);
  const touched: number[] = [];
  const bar = label === null ? null : progress({ label, total: n });
  for (let r = 0; r < n; r++) {
    touched.length = 0;
    for (let e = m.indptr[r]!; e < m.indptr[r + 1]!; e++) {
      const c = m.indices[e]!;
      const v = m.values[e]!;
      for (let p = colCount[c]!; p < colCount[c + 1]!; p++) {
        const o = postRow[p]!;
        if (folds && folds[o] !== folds[r]) continue;
        if (acc[o] === 0) touched.push(o);
        acc[o]! += v * postVal[p]!;
      }
    }
    if (!touched.includes(r)) touched.push(r);
    acc[r] = Math.max(acc[r]!, 1);
    touched.sort((a, b) => acc[b]! - acc[a]! || a - b);
    const kk = Math.min(k, touched.length);
    for (let t = 0; t < kk; t++) {
      indices[r * k + t] = touched[t]!;
      distances[r * k + t] = Math.max(0, 1 - acc[touched[t]!]!);
    }
    for (const o of touched) acc[o] = 0;
    bar?.tick();
  }
  bar?.finish();
  return { n, k, metric: "cosine", indices, distances, engine: "tfidf" };
}
