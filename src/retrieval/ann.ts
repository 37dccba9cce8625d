/**
 * Approximate k-nearest-neighbour search over HNSW graphs from a native library: `usearch`
 * (multi-threaded batch add/search; the default, fastest in `npm run bench -- knn`) or
 * `hnswlib-node` (single-threaded, one query per call). Returns the same {@link KnnResult} as
 * exact search, so {@link knnRecall} can measure how much it misses.
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { env } from "../env";
import { progress } from "../progress";
import type { KnnMetric, KnnResult } from "./knn";
import { l2NormalizeRows, rowCount } from "./vectors";

/** An ANN library. */
export type AnnLibrary = "usearch" | "hnswlib";

/** Options for {@link annSearch}. */
export interface AnnOptions {
  /** Neighbours per query. Defaults to 50. */
  k?: number;
  /** Distance. Defaults to `cosine`. */
  metric?: KnnMetric;
  /** Which library. Defaults to `usearch`. */
  library?: AnnLibrary;
  /** Query rows; omit to search the gallery against itself. Defaults to the gallery. */
  queries?: Float32Array;
  /** HNSW graph degree (M). Defaults to 12 (with f16 and ef 64: recall@50 0.999 on the synthetic bench at 20k rows). */
  connectivity?: number;
  /** Candidate list size while building (efConstruction). Defaults to 128. */
  expansionAdd?: number;
  /** Candidate list size while searching (ef); raised to at least k. Defaults to max(64, k). */
  expansionSearch?: number;
  /** usearch's stored scalar type: `f16` (half the memory, ~1.5× faster than `f32`, same recall on the bench), `f32`, or `i8` (fastest, but recall@50 capped near 0.97). Defaults to `f16`. */
  quantization?: "f32" | "f16" | "i8";
  /** Threads for usearch (hnswlib-node is single-threaded). Defaults to `os.availableParallelism()`. */
  threads?: number;
  /** Seed for hnswlib's level generator (usearch's multi-threaded build is not seeded). Defaults to `env.seed`. */
  seed?: number;
  /** Progress-bar label; null for none. Defaults to "ann". */
  label?: string | null;
}

// Both libraries are CommonJS native addons; load them with require so tslab and tsx agree.
function req(): NodeRequire {
  return createRequire(path.join(env.root, "package.json"));
}

/** Timings of the last {@link annSearch}'s phases, in milliseconds. */
export interface AnnResult extends KnnResult {
  buildMs: number;
  searchMs: number;
}

/**
 * Approximate k nearest neighbours through an HNSW index.
 * @example
 * const approx = await annSearch(emb, 512, { k: 50 });
 * knnRecall(approx, await knnSearch(emb, 512, { k: 50 })) // ≈ 0.99
 */
export async function annSearch(gallery: Float32Array, dim: number, opts: AnnOptions = {}): Promise<AnnResult> {
  const {
    k = 50,
    metric = "cosine",
    library = "usearch",
    queries,
    connectivity = 12,
    expansionAdd = 128,
    threads = os.availableParallelism(),
    seed = env.seed,
    label = "ann",
    quantization = "f16",
  } = opts;
  const ef = Math.max(k, opts.expansionSearch ?? 64);
  if (metric !== "cosine" && metric !== "euclidean") throw new Error(`unknown metric: ${metric as string} (expected cosine|euclidean)`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`annSearch: k must be a positive integer, got ${k}`);
  const ng = rowCount(gallery, dim, "annSearch gallery");
  const g = metric === "cosine" ? l2NormalizeRows(gallery, dim) : gallery;
  const q = queries ? (metric === "cosine" ? l2NormalizeRows(queries, dim) : queries) : g;
  const nq = rowCount(q, dim, "annSearch queries");
  const indices = new Int32Array(nq * k).fill(-1);
  const distances = new Float32Array(nq * k).fill(Number.POSITIVE_INFINITY);
  const bar = label === null ? null : progress({ label: `${label} (${library})`, total: ng + nq });
  let buildMs = 0;
  let searchMs = 0;
  switch (library) {
    case "usearch": {
      const us = req()("usearch") as typeof import("usearch");
      if (!["f32", "f16", "i8"].includes(quantization)) throw new Error(`unknown quantization: ${quantization as string} (expected f32|f16|i8)`);
      const index = new us.Index({
        dimensions: dim,
        metric: metric === "cosine" ? us.MetricKind.IP : us.MetricKind.L2sq,
        quantization: { f32: us.ScalarKind.F32, f16: us.ScalarKind.F16, i8: us.ScalarKind.I8 }[quantization],
        connectivity,
        expansion_add: expansionAdd,
        expansion_search: ef,
        multi: false,
      });
      const t0 = performance.now();
      const step = 8192;
      for (let s = 0; s < ng; s += step) {
        const m = Math.min(step, ng - s);
        const keys = new BigUint64Array(m);
        for (let i = 0; i < m; i++) keys[i] = BigInt(s + i);
        index.add(keys, g.subarray(s * dim, (s + m) * dim), threads);
        bar?.tick(m);
      }
      const t1 = performance.now();
      for (let s = 0; s < nq; s += step) {
        const m = Math.min(step, nq - s);
        const res = index.search(q.slice(s * dim, (s + m) * dim), k, threads) as unknown as {
          keys: BigUint64Array;
          distances: Float32Array;
          counts: BigUint64Array | number;
        };
        const counts = typeof res.counts === "number" ? null : res.counts;
        for (let i = 0; i < m; i++) {
          const c = counts ? Number(counts[i]!) : Math.min(k, ng);
          for (let t = 0; t < c; t++) {
            const dRaw = res.distances[i * k + t]!;
            indices[(s + i) * k + t] = Number(res.keys[i * k + t]!);
            distances[(s + i) * k + t] = metric === "cosine" ? dRaw : Math.sqrt(Math.max(0, dRaw));
          }
        }
        bar?.tick(m);
      }
      buildMs = t1 - t0;
      searchMs = performance.now() - t1;
      break;
    }
    case "hnswlib": {
      const hn = req()("hnswlib-node") as typeof import("hnswlib-node");
      const index = new hn.HierarchicalNSW(metric === "cosine" ? "ip" : "l2", dim);
      index.initIndex({ maxElements: ng, m: connectivity, efConstruction: expansionAdd, randomSeed: seed });
      const t0 = performance.now();
      for (let i = 0; i < ng; i++) {
        index.addPoint(Array.from(g.subarray(i * dim, (i + 1) * dim)), i);
        if ((i & 1023) === 1023) bar?.tick(1024);
      }
      bar?.tick(ng & 1023);
      index.setEf(ef);
      const t1 = performance.now();
      const kk = Math.min(k, ng);
      for (let i = 0; i < nq; i++) {
        const r = index.searchKnn(Array.from(q.subarray(i * dim, (i + 1) * dim)), kk);
        // hnswlib returns farthest-first for some versions: sort ascending by distance
        const order = r.neighbors.map((_, t) => t).sort((a, b) => r.distances[a]! - r.distances[b]!);
        order.forEach((o, t) => {
          indices[i * k + t] = r.neighbors[o]!;
          const d = r.distances[o]!;
          distances[i * k + t] = metric === "cosine" ? d : Math.sqrt(Math.max(0, d));
        });
        if ((i & 1023) === 1023) bar?.tick(1024);
      }
      bar?.tick(nq & 1023);
      buildMs = t1 - t0;
      searchMs = performance.now() - t1;
      break;
    }
    default:
      throw new Error(`unknown ann library: ${library as string} (expected usearch|hnswlib)`);
  }
  bar?.finish(`build ${(buildMs / 1000).toFixed(1)}s, search ${(searchMs / 1000).toFixed(1)}s`);
  return { n: nq, k, metric, indices, distances, engine: library, buildMs, searchMs };
}

/**
 * Recall@k of approximate neighbour lists against exact ones: the mean over rows of
 * |approx top-k ∩ exact top-k| / |exact top-k| (k = the smaller of the two lists' k).
 */
export function knnRecall(approx: KnnResult, exact: KnnResult, k: number = Math.min(approx.k, exact.k)): number {
  if (approx.n !== exact.n) throw new Error(`knnRecall: approx has ${approx.n} rows, exact ${exact.n} (expected equal)`);
  if (k > approx.k || k > exact.k) throw new Error(`knnRecall: k = ${k} exceeds a list's length (approx ${approx.k}, exact ${exact.k})`);
  let total = 0;
  const set = new Set<number>();
  for (let i = 0; i < exact.n; i++) {
    set.clear();
    let size = 0;
    for (let t = 0; t < k; t++) {
      const j = exact.indices[i * exact.k + t]!;
      if (j >= 0) {
        set.add(j);
        size++;
      }
    }
    if (size === 0) {
      total += 1;
      continue;
    }
    let hit = 0;
    for (let t = 0; t < k; t++) if (set.has(approx.indices[i * approx.k + t]!)) hit++;
    total += hit / size;
  }
  return exact.n === 0 ? 1 : total / exact.n;
}
