/**
 * Cached features as training data: a {@link FeatureTable} holds one or more encoders' embeddings
 * of a dataset (row-aligned, from the cache), and {@link featureBatchSource} serves batches of them
 * in the shape the training loop's `BatchSource` expects (`{size, makeBatch(rows, epoch)}` →
 * `{inputs: one [b, dim] tensor per encoder, labels: int32 [b], indices}`), so heads and fusion
 * train on features computed once instead of running the frozen encoder every step.
 */
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/index";
import { type EmbedDatasetOptions, embedDataset } from "./dataset";

/** One encoder's block of features. */
export interface FeatureBlock {
  encoder: string;
  /** `[n, dim]` row-major. */
  vectors: Float32Array;
  dim: number;
}

/** Row-aligned feature blocks with posting ids and integer labels. */
export interface FeatureTable {
  n: number;
  ids: string[];
  /** Label group index per row (0..classes.length-1), in first-seen order. */
  labels: Int32Array;
  /** The label group names, by index. */
  classes: string[];
  blocks: FeatureBlock[];
}

/** Options for {@link loadFeatureTable}. */
export interface FeatureTableOptions extends Omit<EmbedDatasetOptions, "model" | "field"> {
  /** Encoder ids, one block each (e.g. `["mobilenet-v2@96", "use-lite"]`). Required. */
  encoders: string[];
}

/** Integer codes for string labels, in first-seen order. */
export function labelIndex(labels: readonly string[]): {
  codes: Int32Array;
  classes: string[];
} {
  const map = new Map<string, number>();
  const codes = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    let c = map.get(l);
    if (c === undefined) {
      c = map.size;
      map.set(l, c);
    }
    codes[i] = c;
  });
  return { codes, classes: [...map.keys()] };
}

/**
 * Embeds (or reloads from the cache) a dataset with each encoder and returns the aligned table.
 * @example const t = await loadFeatureTable(env.dataset, { encoders: ["mobilenet-v2@96", "use-lite"], normalize: true });
 */
export async function loadFeatureTable(dataset: string | Dataset, opts: FeatureTableOptions): Promise<FeatureTable> {
  const { encoders, ...rest } = opts;
  if (!Array.isArray(encoders) || encoders.length === 0) throw new Error("loadFeatureTable: encoders must name at least one encoder id");
  const blocks: FeatureBlock[] = [];
  let ids: string[] = [];
  let labels: string[] = [];
  for (const model of encoders) {
    const r = await embedDataset(dataset, { ...rest, model });
    if (blocks.length === 0) {
      ids = r.ids;
      labels = r.labels;
    }
    blocks.push({ encoder: r.encoder, vectors: r.vectors, dim: r.dim });
  }
  const { codes, classes } = labelIndex(labels);
  return { n: ids.length, ids, labels: codes, classes, blocks };
}

/** The blocks of `table` concatenated per row (for the rows given, default all): `[rows, Σ dim]`. */
export function concatFeatures(table: FeatureTable, rows?: ArrayLike<number>): Float32Array {
  const r = rows ?? Int32Array.from({ length: table.n }, (_, i) => i);
  const total = table.blocks.reduce((a, b) => a + b.dim, 0);
  const out = new Float32Array(r.length * total);
  for (let i = 0; i < r.length; i++) {
    let o = i * total;
    for (const b of table.blocks) {
      out.set(b.vectors.subarray(r[i]! * b.dim, (r[i]! + 1) * b.dim), o);
      o += b.dim;
    }
  }
  return out;
}

/** A batch of cached features, shaped like the training loop's `Batch`. */
export interface FeatureBatch {
  /** One `[b, dim]` tensor per block (or one concatenated tensor with `concat`). */
  inputs: tf.Tensor[];
  /** int32 `[b]` label indices. */
  labels: tf.Tensor;
  /** The table rows in this batch. */
  indices: Int32Array;
}

/** Options for {@link featureBatchSource}. */
export interface FeatureBatchSourceOptions {
  /** The table rows this source serves (e.g. a fold's train rows). Defaults to all. */
  rows?: Int32Array;
  /** Give one concatenated input instead of one per block. Defaults to false. */
  concat?: boolean;
}

/**
 * A `BatchSource` over cached features: `makeBatch(positions)` gathers rows without touching an encoder.
 * @example
 * const data = featureBatchSource(table, { rows: split.train });
 * const l = learner({ data, params, forward, optimizer });
 */
export function featureBatchSource(
  table: FeatureTable,
  opts: FeatureBatchSourceOptions = {},
): {
  size: number;
  makeBatch(positions: Int32Array, epoch: number): FeatureBatch;
} {
  const { rows, concat = false } = opts;
  const map = rows ?? Int32Array.from({ length: table.n }, (_, i) => i);
  for (const r of map) if (r < 0 || r >= table.n) throw new Error(`featureBatchSource: row ${r} is outside the table (0..${table.n - 1})`);
  return {
    size: map.length,
    makeBatch(positions) {
      const idx = Int32Array.from(positions, (p) => {
        if (p < 0 || p >= map.length) throw new Error(`featureBatchSource: position ${p} is outside 0..${map.length - 1}`);
        return map[p]!;
      });
      const inputs: tf.Tensor[] = [];
      if (concat) {
        const total = table.blocks.reduce((a, b) => a + b.dim, 0);
        inputs.push(tf.tensor2d(concatFeatures(table, idx), [idx.length, total]));
      } else {
        for (const b of table.blocks) {
          const x = new Float32Array(idx.length * b.dim);
          idx.forEach((r, i) => {
            x.set(b.vectors.subarray(r * b.dim, (r + 1) * b.dim), i * b.dim);
          });
          inputs.push(tf.tensor2d(x, [idx.length, b.dim]));
        }
      }
      const labels = tf.tensor1d(
        Int32Array.from(idx, (r) => table.labels[r]!),
        "int32",
      );
      return { inputs, labels, indices: idx };
    },
  };
}
