/**
 * DataLoader: batches of decoded, augmented images (B×H×W×3 floats) with labels, seeded shuffling
 * per epoch, drop_last, prefetch, and `numWorkers` worker threads that decode and augment off the
 * main thread. Output is identical for any numWorkers: order comes from (seed, epoch) and each
 * sample's augmentation from (seed, epoch, row index). `state()`/`restore()` resume mid-epoch.
 */
import path from "node:path";
import { env } from "../env";
import { TaskWorker } from "../task_worker";
import { Rng } from "../rng";
import { type Dataset, type Listing, labelCodes } from "./dataset";
import { type ImageFit, sizeHW } from "./image";
import { type BatchTask, type LoaderTransform, loadBatchImages } from "./loader_task";

export type { LoaderTransform } from "./loader_task";

/** What a worker sends back for a batch. */
type LoadedBatch = { images: Float32Array; height: number; width: number };

/** Options for {@link dataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch. Defaults to 32. */
  batchSize?: number;
  /** Shuffle each epoch with `Rng.derive(seed, "loader", epoch)`. Defaults to false. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. Defaults to false. */
  dropLast?: boolean;
  /** Seed for the order and the augmentations. Defaults to `env.seed`. */
  seed?: number;
  /** Worker threads that decode and augment; 0 does it on the main thread. Defaults to 0. */
  numWorkers?: number;
  /** Batches requested ahead per worker (with numWorkers ≥ 1). Defaults to 2. */
  prefetch?: number;
  /** Decode size (sharp resize) before the transform: a side or [height, width]. Defaults to 224. */
  imageSize?: number | [number, number];
  /** How the decode fits `imageSize`. Defaults to "fill". */
  fit?: ImageFit;
  /** Augmentation applied after decoding (e.g. `compose([...])` from src/augment), or null. Defaults to null. */
  transform?: LoaderTransform | null;
  /** Rows of the dataset to use (e.g. a fold's `train`). Defaults to all. */
  indices?: ArrayLike<number>;
  /** An integer label per dataset row. Defaults to label_group codes (first-seen order). */
  labels?: ArrayLike<number>;
  /** Where iteration starts: epoch. Defaults to 0. */
  epoch?: number;
  /** Where iteration starts: batch within the epoch. Defaults to 0. */
  startBatch?: number;
}

/** One batch. */
export interface LoaderBatch {
  /** B×H×W×3 floats, row-major. */
  images: Float32Array;
  shape: [number, number, number, 3];
  labels: Int32Array;
  /** Dataset row of each sample. */
  indices: Int32Array;
  postingIds: string[];
  epoch: number;
  /** Batch number within the epoch. */
  batch: number;
}

/** Where a loader is: the next batch to produce. Save it in checkpoints; pass it to `restore`. */
export interface LoaderState {
  epoch: number;
  batch: number;
  seed: number;
  size: number;
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
}

/** A DataLoader over a dataset's images and labels; see {@link dataLoader}. */
export class DataLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly numWorkers: number;
  readonly prefetch: number;
  readonly imageSize: [number, number];
  readonly fit: ImageFit;
  readonly transform: LoaderTransform | null;
  /** The dataset rows this loader draws from. */
  readonly rows: Int32Array;
  private readonly listings: readonly Listing[];
  private readonly labels: Int32Array;
  private epoch: number;
  private batch: number;
  private workers: TaskWorker<BatchTask, LoadedBatch>[] | null = null;
  private closed = false;

  constructor(source: Dataset | readonly Listing[], opts: DataLoaderOptions = {}) {
    const {
      batchSize = 32,
      shuffle = false,
      dropLast = false,
      seed = env.seed,
      numWorkers = 0,
      prefetch = 2,
      imageSize = 224,
      fit = "fill",
      transform = null,
      indices,
      labels,
      epoch = 0,
      startBatch = 0,
    } = opts;
    const known = ["batchSize", "shuffle", "dropLast", "seed", "numWorkers", "prefetch", "imageSize", "fit", "transform", "indices", "labels", "epoch", "startBatch"];
    for (const k of Object.keys(opts)) if (!known.includes(k)) throw new Error(`dataLoader: unknown option ${k} (expected ${known.join("|")})`);
    this.listings = Array.isArray(source) ? (source as Listing[]) : (source as Dataset).listings;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`dataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(numWorkers) || numWorkers < 0) throw new Error(`dataLoader: numWorkers must be an integer >= 0, got ${numWorkers}`);
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error(`dataLoader: prefetch must be an integer >= 1, got ${prefetch}`);
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.seed = seed;
    this.numWorkers = numWorkers;
    this.prefetch = prefetch;
    this.imageSize = sizeHW(imageSize);
    this.fit = fit;
    this.transform = transform;
    const n = this.listings.length;
    this.rows = indices ? Int32Array.from(indices) : Int32Array.from({ length: n }, (_, i) => i);
    for (const r of this.rows) if (!(r >= 0 && r < n)) throw new Error(`dataLoader: index ${r} is outside the dataset (0..${n - 1})`);
    if (labels) {
      if (labels.length !== n) throw new Error(`dataLoader: ${labels.length} labels for ${n} dataset rows (expected one per row, indexed by row)`);
      this.labels = Int32Array.from(labels);
    } else this.labels = labelCodes(this.listings).codes;
    this.epoch = epoch;
    this.batch = 0;
    this.seek(epoch, startBatch);
  }

  /** Samples per epoch. */
  get size(): number {
    return this.rows.length;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.rows.length / this.batchSize) : Math.ceil(this.rows.length / this.batchSize);
  }

  /** The dataset rows in the order epoch `epoch` visits them. */
  order(epoch: number): Int32Array {
    if (!this.shuffle) return Int32Array.from(this.rows);
    const perm = Rng.derive(this.seed, "loader", epoch).permutation(this.rows.length);
    return Int32Array.from(perm, (i) => this.rows[i]!);
  }

  /** The next batch to be produced (for checkpoints). */
  state(): LoaderState {
    return { epoch: this.epoch, batch: this.batch, seed: this.seed, size: this.size, batchSize: this.batchSize, shuffle: this.shuffle, dropLast: this.dropLast };
  }

  /** Resumes from a saved {@link LoaderState}; throws when it was made by a differently configured loader. */
  restore(s: LoaderState): void {
    const mine = this.state();
    for (const k of ["seed", "size", "batchSize", "shuffle", "dropLast"] as const) {
      if (s[k] !== mine[k]) throw new Error(`loader state mismatch: ${k} is ${String(s[k])} in the saved state but ${String(mine[k])} here (resume with the same loader options)`);
    }
    this.seek(s.epoch, s.batch);
  }

  /** Moves to (epoch, batch); batch == length means the epoch is done. */
  seek(epoch: number, batch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`loader: epoch must be an integer >= 0, got ${epoch}`);
    if (!Number.isInteger(batch) || batch < 0 || batch > this.length) throw new Error(`loader: batch must be in 0..${this.length}, got ${batch}`);
    this.epoch = epoch;
    this.batch = batch;
  }

  private ensureWorkers(): TaskWorker<BatchTask, LoadedBatch>[] {
    if (this.closed) throw new Error("DataLoader is closed");
    if (!this.workers) {
      const workerData = {
        taskModule: path.join(env.root, "src", "data", "loader_task.ts"),
        transform: this.transform ? { module: this.transform.module, spec: JSON.parse(JSON.stringify(this.transform.spec)) } : null,
      };
      const script = path.join(env.root, "src", "data", "loader_worker.mjs");
      this.workers = Array.from({ length: this.numWorkers }, () => new TaskWorker<BatchTask, LoadedBatch>(script, workerData, "DataLoader worker"));
    }
    return this.workers;
  }

  private task(epoch: number, rows: Int32Array): BatchTask {
    return {
      paths: Array.from(rows, (r) => this.listings[r]!.imagePath),
      indices: Array.from(rows),
      rows: Array.from(rows, (r) => {
        const l = this.listings[r]!;
        return `${l.line ? `line ${l.line}` : `row ${r}`} (posting_id ${l.postingId})`;
      }),
      seed: this.seed,
      epoch,
      size: this.imageSize,
      fit: this.fit,
    };
  }

  private makeBatch(epoch: number, b: number, rows: Int32Array, out: { images: Float32Array; height: number; width: number }): LoaderBatch {
    return {
      images: out.images,
      shape: [rows.length, out.height, out.width, 3],
      labels: Int32Array.from(rows, (r) => this.labels[r]!),
      indices: rows,
      postingIds: Array.from(rows, (r) => this.listings[r]!.postingId),
      epoch,
      batch: b,
    };
  }

  /**
   * Yields the rest of the current epoch from the current position, then moves to the next
   * epoch. The position advances as each batch is yielded, so `state()` inside the loop body
   * names the batch after the one in hand.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<LoaderBatch> {
    const epoch = this.epoch;
    const order = this.order(epoch);
    const nb = this.length;
    const rowsOf = (b: number) => order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
    if (this.numWorkers === 0) {
      for (let b = this.batch; b < nb; b++) {
        const rows = Int32Array.from(rowsOf(b));
        const out = await loadBatchImages(this.task(epoch, rows), this.transform);
        this.batch = b + 1;
        yield this.makeBatch(epoch, b, rows, out);
      }
    } else {
      const workers = this.ensureWorkers();
      await Promise.all(workers.map((w) => w.ready));
      const inflight = new Map<number, Promise<LoadedBatch>>();
      const depth = this.numWorkers * this.prefetch;
      let next = this.batch;
      const request = () => {
        while (next < nb && inflight.size < depth) {
          const b = next++;
          const p = workers[b % workers.length]!.run(this.task(epoch, Int32Array.from(rowsOf(b))));
          p.catch(() => {}); // handled when awaited
          inflight.set(b, p);
        }
      };
      for (let b = this.batch; b < nb; b++) {
        request();
        const out = await inflight.get(b)!;
        inflight.delete(b);
        request();
        this.batch = b + 1;
        yield this.makeBatch(epoch, b, Int32Array.from(rowsOf(b)), out);
      }
    }
    this.epoch = epoch + 1;
    this.batch = 0;
  }

  /** Stops the worker threads; iterating again afterwards with numWorkers ≥ 1 throws "DataLoader is closed". */
  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers ?? [];
    this.workers = null;
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/**
 * Makes a {@link DataLoader}.
 * @example
 * const loader = dataLoader(ds, { batchSize: 16, shuffle: true, numWorkers: 1, imageSize: 256,
 *   transform: compose([randomResizedCrop({ size: 224 }), horizontalFlip(), normalizeImage()]) });
 * for await (const batch of loader) train(batch.images, batch.labels);
 */
export function dataLoader(source: Dataset | readonly Listing[], opts: DataLoaderOptions = {}): DataLoader {
  return new DataLoader(source, opts);
}
