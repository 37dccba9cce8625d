/**
 * Exact k-nearest-neighbour search: chunked matmul + top-k, cosine or Euclidean, with memory
 * bounded by the block size (queryChunk × galleryChunk scores at a time), on one of three engines:
 *
 * - `onnx`: onnxruntime-node's native MLAS GEMM + TopK, driven by a Gemm→TopK graph built in JS;
 * - `tfjs`: the active tfjs backend (`tf.matMul` + `tf.topk`);
 * - `js`: plain JavaScript loops (always available; the reference the others are tested against).
 *
 * `engine: "auto"` measures the available engines once on a small probe and uses the fastest
 * (see {@link measureKnnEngines}); on the bench machine the ranking was onnx ≫ tfjs-wasm > js.
 */
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { progress } from "../progress";
import { buildOnnxModel } from "./onnx_graph";
import { l2NormalizeRows, rowCount, rowSqNorms } from "./vectors";

/** How closeness is measured. `cosine` distances are 1 − cos; `euclidean` distances are L2. */
export type KnnMetric = "cosine" | "euclidean";

/** An exact-search engine. */
export type KnnEngineName = "onnx" | "tfjs" | "js";

/** Neighbour lists: row i holds query i's k nearest gallery rows, nearest first. */
export interface KnnResult {
  /** Number of queries (rows). */
  n: number;
  /** Neighbours per row. */
  k: number;
  metric: KnnMetric;
  /** n × k gallery row indices, row-major; -1 pads rows when the gallery has fewer than k rows. */
  indices: Int32Array;
  /** n × k distances, ascending per row (cosine: 1 − similarity; euclidean: L2); Infinity pads. */
  distances: Float32Array;
  /** Which engine produced it (`usearch`/`hnswlib` for approximate search). */
  engine: string;
}

/** Options for {@link knnSearch}. */
export interface KnnOptions {
  /** Neighbours per query. Defaults to 50. */
  k?: number;
  /** Distance. Defaults to `cosine` (rows are L2-normalised internally). */
  metric?: KnnMetric;
  /** Engine, or `auto` to use the fastest measured one. Defaults to `auto`. */
  engine?: KnnEngineName | "auto";
  /** Query rows; omit to search the gallery against itself (each row then finds itself first). Defaults to the gallery. */
  queries?: Float32Array;
  /** Query rows per block. Defaults to 1024. */
  queryChunk?: number;
  /** Gallery rows per block (block memory = queryChunk × galleryChunk × 4 bytes). Defaults to 32768. */
  galleryChunk?: number;
  /** Threads for the onnx engine. Defaults to `os.availableParallelism()`. */
  threads?: number;
  /** Progress-bar label; null for none. Defaults to "knn". */
  label?: string | null;
}

/** One prepared gallery block and the search over it. Scores: bigger is closer. */
interface BlockEngine {
  /** Prepares a gallery block (nb rows); `gSq` is set for euclidean. */
  prepare(g: Float32Array, nb: number, gSq: Float32Array | null): Promise<unknown>;
  /** Top-kb scores and block-local indices per query row, each row sorted descending. */
  search(handle: unknown, q: Float32Array, m: number, kb: number): Promise<{ values: Float32Array; indices: Int32Array }>;
  release(handle: unknown): void;
}

type EngineFactory = (dim: number, metric: KnnMetric, threads: number) => Promise<BlockEngine>;

// ---------------------------------------------------------------- js

function jsEngine(dim: number, metric: KnnMetric): BlockEngine {
  return {
    async prepare(g, nb, gSq) {
      return { g, nb, gSq };
    },
    async search(handle, q, m, kb) {
      const { g, nb, gSq } = handle as { g: Float32Array; nb: number; gSq: Float32Array | null };
      const values = new Float32Array(m * kb);
      const indices = new Int32Array(m * kb);
      const bv = new Float64Array(kb);
      const bi = new Int32Array(kb);
      for (let i = 0; i < m; i++) {
        bv.fill(Number.NEGATIVE_INFINITY);
        bi.fill(-1);
        const qo = i * dim;
        for (let j = 0; j < nb; j++) {
          const go = j * dim;
          let s = 0;
          for (let t = 0; t < dim; t++) s += q[qo + t]! * g[go + t]!;
          if (metric === "euclidean") s = 2 * s - gSq![j]!;
          if (s <= bv[kb - 1]!) continue;
          let p = kb - 1;
          while (p > 0 && bv[p - 1]! < s) {
            bv[p] = bv[p - 1]!;
            bi[p] = bi[p - 1]!;
            p--;
          }
          bv[p] = s;
          bi[p] = j;
        }
        for (let t = 0; t < kb; t++) {
          values[i * kb + t] = bv[t]!;
          indices[i * kb + t] = bi[t]!;
        }
      }
      return { values, indices };
    },
    release() {},
  };
}

// ---------------------------------------------------------------- tfjs

function tfjsEngine(dim: number, metric: KnnMetric): BlockEngine {
  return {
    async prepare(g, nb, gSq) {
      await tf.ready();
      return { G: tf.tensor2d(g, [nb, dim]), gSq: gSq ? tf.tensor2d(gSq, [1, nb]) : null };
    },
    async search(handle, q, m, kb) {
      const { G, gSq } = handle as { G: tf.Tensor2D; gSq: tf.Tensor2D | null };
      const res = tf.tidy(() => {
        let s: tf.Tensor2D = tf.matMul(tf.tensor2d(q, [m, dim]), G, false, true);
        if (metric === "euclidean") s = tf.sub(tf.mul(s, 2), gSq!);
        return tf.topk(s, kb, true);
      });
      try {
        const [values, indices] = await Promise.all([res.values.data(), res.indices.data()]);
        return { values: values as Float32Array, indices: indices as Int32Array };
      } finally {
        res.values.dispose();
        res.indices.dispose();
      }
    },
    release(handle) {
      const { G, gSq } = handle as { G: tf.Tensor2D; gSq: tf.Tensor2D | null };
      G.dispose();
      gSq?.dispose();
    },
  };
}

// ---------------------------------------------------------------- onnx

type Ort = typeof import("onnxruntime-node");
let ortModule: Promise<Ort> | null = null;
/** Loads onnxruntime-node lazily (it is a native module; only the onnx engine needs it). */
function loadOrt(): Promise<Ort> {
  ortModule ??= import("onnxruntime-node").then((m) => ((m as unknown as { default?: Ort }).default ?? m) as Ort);
  return ortModule;
}

/** The Gemm→TopK graph: scores = q·gᵀ (cosine) or 2q·gᵀ − |g|² (euclidean), then the top kb per row. */
export function knnOnnxModel(dim: number, metric: KnnMetric): Uint8Array {
  const euclid = metric === "euclidean";
  return buildOnnxModel({
    name: `knn_${metric}_${dim}`,
    nodes: [
      euclid
        ? { opType: "Gemm", inputs: ["q", "g", "gsq"], outputs: ["s"], ints: { transB: 1 }, floats: { alpha: 2, beta: -1 } }
        : { opType: "Gemm", inputs: ["q", "g"], outputs: ["s"], ints: { transB: 1 } },
      { opType: "TopK", inputs: ["s", "k"], outputs: ["values", "indices"], ints: { axis: 1, largest: 1, sorted: 1 } },
    ],
    inputs: [
      { name: "q", dtype: "float", shape: ["m", dim] },
      { name: "g", dtype: "float", shape: ["n", dim] },
      ...(euclid ? [{ name: "gsq", dtype: "float" as const, shape: [1, "n"] }] : []),
      { name: "k", dtype: "int64", shape: [1] },
    ],
    outputs: [
      { name: "values", dtype: "float", shape: ["m", "kb"] },
      { name: "indices", dtype: "int64", shape: ["m", "kb"] },
    ],
  });
}

const ortSessions = new Map<string, Promise<import("onnxruntime-node").InferenceSession>>();

async function onnxEngine(dim: number, metric: KnnMetric, threads: number): Promise<BlockEngine> {
  const ort = await loadOrt();
  const key = `${dim}:${metric}:${threads}`;
  let sp = ortSessions.get(key);
  if (!sp) {
    sp = ort.InferenceSession.create(knnOnnxModel(dim, metric), { intraOpNumThreads: threads, interOpNumThreads: 1 });
    ortSessions.set(key, sp);
  }
  const session = await sp;
  return {
    async prepare(g, nb, gSq) {
      return {
        g: new ort.Tensor("float32", g, [nb, dim]),
        gsq: gSq ? new ort.Tensor("float32", gSq, [1, nb]) : null,
      };
    },
    async search(handle, q, m, kb) {
      const h = handle as { g: import("onnxruntime-node").Tensor; gsq: import("onnxruntime-node").Tensor | null };
      const feeds: Record<string, import("onnxruntime-node").Tensor> = {
        q: new ort.Tensor("float32", q, [m, dim]),
        g: h.g,
        k: new ort.Tensor("int64", BigInt64Array.from([BigInt(kb)]), [1]),
      };
      if (h.gsq) feeds.gsq = h.gsq;
      const out = await session.run(feeds);
      const idx = out.indices!.data as BigInt64Array;
      const indices = new Int32Array(idx.length);
      for (let i = 0; i < idx.length; i++) indices[i] = Number(idx[i]!);
      return { values: out.values!.data as Float32Array, indices };
    },
    release() {},
  };
}

/** The engine table. */
export const KNN_ENGINES: Readonly<Record<KnnEngineName, EngineFactory>> = Object.freeze({
  onnx: onnxEngine,
  tfjs: async (dim: number, metric: KnnMetric) => tfjsEngine(dim, metric),
  js: async (dim: number, metric: KnnMetric) => jsEngine(dim, metric),
});

function engineFactory(name: string): EngineFactory {
  const f = (KNN_ENGINES as Record<string, EngineFactory>)[name];
  if (!f) throw new Error(`unknown knn engine: ${name} (expected ${Object.keys(KNN_ENGINES).join("|")}|auto)`);
  return f;
}

// ---------------------------------------------------------------- engine choice

/** One engine's probe timing. */
export interface KnnEngineTiming {
  engine: KnnEngineName;
  /** Milliseconds for the probe, or null when the engine failed to load. */
  ms: number | null;
  /** Achieved GFLOP/s of the probe's matmul (null on failure). */
  gflops: number | null;
  /** Why it failed, when it did. */
  error?: string;
}

const measured = new Map<string, Promise<KnnEngineTiming[]>>();

/**
 * Times each engine on a probe (`probeQueries` × `probeGallery` × dim; second run counted) and
 * returns them fastest first. Memoised per (dim, tfjs backend, threads).
 */
export function measureKnnEngines(dim: number, opts: { probeQueries?: number; probeGallery?: number; threads?: number } = {}): Promise<KnnEngineTiming[]> {
  const { probeQueries = 128, probeGallery = 2048, threads = os.availableParallelism() } = opts;
  const key = `${dim}:${tf.getBackend()}:${threads}:${probeQueries}:${probeGallery}`;
  let p = measured.get(key);
  if (!p) {
    p = (async () => {
      const g = new Float32Array(probeGallery * dim);
      for (let i = 0; i < g.length; i++) g[i] = Math.sin(i * 12.9898) * 0.5;
      const q = g.subarray(0, probeQueries * dim);
      const out: KnnEngineTiming[] = [];
      for (const name of Object.keys(KNN_ENGINES) as KnnEngineName[]) {
        try {
          const eng = await KNN_ENGINES[name](dim, "cosine", threads);
          const h = await eng.prepare(g, probeGallery, null);
          await eng.search(h, q, probeQueries, 10);
          const t0 = performance.now();
          await eng.search(h, q, probeQueries, 10);
          const ms = performance.now() - t0;
          eng.release(h);
          out.push({ engine: name, ms, gflops: (2 * probeQueries * probeGallery * dim) / (ms * 1e6) });
        } catch (err) {
          out.push({ engine: name, ms: null, gflops: null, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return out.sort((a, b) => (a.ms ?? Number.POSITIVE_INFINITY) - (b.ms ?? Number.POSITIVE_INFINITY));
    })();
    measured.set(key, p);
  }
  return p;
}

/** The engine `auto` resolves to for `dim` (the fastest measured one that loaded). */
export async function pickKnnEngine(dim: number, threads?: number): Promise<KnnEngineName> {
  const timings = await measureKnnEngines(dim, threads === undefined ? {} : { threads });
  const ok = timings.find((t) => t.ms !== null);
  return ok ? ok.engine : "js";
}

// ---------------------------------------------------------------- search

function checkPositiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`knnSearch: ${what} must be a positive integer, got ${v}`);
}

/**
 * Exact k-nearest neighbours of each query row among the gallery rows.
 * @example
 * const nb = await knnSearch(embeddings, 512, { k: 50 });       // self-search, cosine
 * nb.indices[i * nb.k + 1]; nb.distances[i * nb.k + 1];          // i's nearest other row
 */
export async function knnSearch(gallery: Float32Array, dim: number, opts: KnnOptions = {}): Promise<KnnResult> {
  const {
    k = 50,
    metric = "cosine",
    engine = "auto",
    queries,
    queryChunk = 1024,
    galleryChunk = 32768,
    threads = os.availableParallelism(),
    label = "knn",
  } = opts;
  if (metric !== "cosine" && metric !== "euclidean") throw new Error(`unknown metric: ${metric as string} (expected cosine|euclidean)`);
  checkPositiveInt(k, "k");
  checkPositiveInt(queryChunk, "queryChunk");
  checkPositiveInt(galleryChunk, "galleryChunk");
  const ng = rowCount(gallery, dim, "knnSearch gallery");
  const qSrc = queries ?? gallery;
  const nq = rowCount(qSrc, dim, "knnSearch queries");
  const name = engine === "auto" ? await pickKnnEngine(dim, threads) : engine;
  const eng = await engineFactory(name)(dim, metric, threads);

  const g = metric === "cosine" ? l2NormalizeRows(gallery, dim) : gallery;
  const q = metric === "cosine" ? (queries ? l2NormalizeRows(queries, dim) : g) : qSrc;
  const gSqAll = metric === "euclidean" ? rowSqNorms(g, dim) : null;

  const bestV = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
  const bestI = new Int32Array(nq * k).fill(-1);
  const tmpV = new Float32Array(k);
  const tmpI = new Int32Array(k);
  const nGc = Math.ceil(ng / galleryChunk);
  const nQc = Math.ceil(nq / queryChunk);
  const bar = label === null ? null : progress({ label: `${label} (${name})`, total: nGc * nQc });
  for (let g0 = 0; g0 < ng; g0 += galleryChunk) {
    const nb = Math.min(galleryChunk, ng - g0);
    const gBlock = g.subarray(g0 * dim, (g0 + nb) * dim);
    const handle = await eng.prepare(gBlock, nb, gSqAll ? gSqAll.subarray(g0, g0 + nb) : null);
    const kb = Math.min(k, nb);
    try {
      for (let q0 = 0; q0 < nq; q0 += queryChunk) {
        const m = Math.min(queryChunk, nq - q0);
        const r = await eng.search(handle, q.subarray(q0 * dim, (q0 + m) * dim), m, kb);
        // merge each row's block top-kb into the running top-k
        for (let i = 0; i < m; i++) {
          const row = (q0 + i) * k;
          let a = 0;
          let b = 0;
          for (let t = 0; t < k; t++) {
            const av = bestV[row + a]!;
            const bv = b < kb ? r.values[i * kb + b]! : Number.NEGATIVE_INFINITY;
            if (a < k && (av >= bv || b >= kb)) {
              tmpV[t] = av;
              tmpI[t] = bestI[row + a]!;
              a++;
            } else {
              tmpV[t] = bv;
              tmpI[t] = r.indices[i * kb + b]! + g0;
              b++;
            }
          }
          bestV.set(tmpV, row);
          bestI.set(tmpI, row);
        }
        bar?.tick();
      }
    } finally {
      eng.release(handle);
    }
  }
  bar?.finish();
  const distances = new Float32Array(nq * k);
  const qSq = metric === "euclidean" ? rowSqNorms(q, dim) : null;
  for (let i = 0; i < nq; i++) {
    for (let t = 0; t < k; t++) {
      const s = bestV[i * k + t]!;
      const j = bestI[i * k + t]!;
      if (j < 0) distances[i * k + t] = Number.POSITIVE_INFINITY;
      else distances[i * k + t] = metric === "cosine" ? 1 - s : Math.sqrt(Math.max(0, qSq![i]! - s));
    }
  }
  return { n: nq, k, metric, indices: bestI, distances, engine: name };
}

/** Cosine similarity (1 − distance) of a cosine {@link KnnResult}, as a new array. */
export function knnSimilarities(r: KnnResult): Float32Array {
  if (r.metric !== "cosine") throw new Error(`knnSimilarities: result metric is ${r.metric}; similarities are defined for cosine results`);
  return r.distances.map((d) => (Number.isFinite(d) ? 1 - d : Number.NEGATIVE_INFINITY));
}
