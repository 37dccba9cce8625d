/**
 * The training batch source with augmentation: images decoded once (uint8, shared memory) are
 * augmented per (seed, epoch, row) by `data.augment`, on the main thread (`num_workers: 0`) or in
 * worker threads that work ahead on the batches the Learner has planned (`data.prefetch` per
 * worker) while the step runs. A batch is the same whatever the worker count, and a resumed run
 * plans from its checkpointed position, so resume stays exact.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { type AugmentBatchTask, augmentBatch } from "../augment/batch";
import { augmentModulePath, type Transform } from "../augment/transform";
import { env } from "../env";
import { TaskWorker } from "../task_worker";
import type { Batch, BatchSource } from "./learner";

/** Options for {@link augmentBatchSource}. */
export interface AugmentSourceOptions {
  /** n × decode × decode × 3 decoded bytes (copied once into shared memory for the workers). Required. */
  images: Uint8Array;
  /** Side of the decoded images. Required. */
  decode: number;
  /** Side of the model's input (every augmented image must come out this size). Required. */
  size: number;
  /** The training rows: position p of an epoch is row `train[p]`. Required. */
  train: Int32Array;
  /** Head class of each row. Required. */
  classOf: Int32Array;
  /** The augmentation (a compose of `data.augment`). Required. */
  transform: Transform;
  /** Seed of the augmentation streams. Defaults to 0. */
  seed?: number;
  /** Worker threads; 0 augments on the main thread. Defaults to 0. */
  numWorkers?: number;
  /** Batches each worker works ahead. Defaults to 2. */
  prefetch?: number;
  /** The other model inputs of some rows (text features), after the image. Defaults to none. */
  extraInputs?: (rows: Int32Array) => tf.Tensor[];
}

/** A batch source that can also be told what comes next, and closed. */
export interface PlannedBatchSource extends BatchSource {
  /** Stops the worker threads. */
  close(): Promise<void>;
}

const keyOf = (epoch: number, rows: ArrayLike<number>) => `${epoch}:${Array.from(rows).join(",")}`;

/**
 * A training batch source that augments images, in worker threads when asked.
 * @example const src = augmentBatchSource({ images, decode: 32, size: 24, train, classOf, transform: compose([randomResizedCrop({ size: 24 }), horizontalFlip()]), numWorkers: 1 });
 */
export function augmentBatchSource(opts: AugmentSourceOptions): PlannedBatchSource {
  const { decode, size, train, classOf, transform, seed = 0, numWorkers = 0, prefetch = 2, extraInputs } = opts;
  if (!Number.isInteger(numWorkers) || numWorkers < 0) throw new Error(`augmentBatchSource: numWorkers must be an integer >= 0, got ${numWorkers}`);
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error(`augmentBatchSource: prefetch must be an integer >= 1, got ${prefetch}`);
  let images = opts.images;
  let workers: TaskWorker<AugmentBatchTask, { images: Float32Array }>[] | null = null;
  let turn = 0;
  const inflight = new Map<string, Promise<Float32Array>>();
  let queue: { epoch: number; rows: number[] }[] = [];

  const pool = (): TaskWorker<AugmentBatchTask, { images: Float32Array }>[] => {
    if (!workers) {
      const shared = new SharedArrayBuffer(images.length);
      new Uint8Array(shared).set(images);
      images = new Uint8Array(shared);
      const workerData = { batchModule: path.join(env.root, "src", "augment", "batch.ts"), augmentModule: augmentModulePath(), spec: transform.spec, images: shared, decode, size };
      const script = path.join(env.root, "src", "augment", "batch_worker.mjs");
      workers = Array.from({ length: numWorkers }, () => new TaskWorker<AugmentBatchTask, { images: Float32Array }>(script, workerData, "augmentation worker"));
    }
    return workers;
  };
  const dispatch = (epoch: number, rows: number[]): Promise<Float32Array> => {
    const ws = pool();
    const w = ws[turn++ % ws.length]!;
    const p = w.ready.then(() => w.run({ rows, seed, epoch })).then((r) => r.images);
    p.catch(() => {}); // handled when awaited
    return p;
  };
  const topUp = () => {
    while (queue.length > 0 && inflight.size < numWorkers * prefetch) {
      const next = queue.shift()!;
      const k = keyOf(next.epoch, next.rows);
      if (!inflight.has(k)) inflight.set(k, dispatch(next.epoch, next.rows));
    }
  };
  const pixels = async (rows: Int32Array, epoch: number): Promise<Float32Array> => {
    const list = Array.from(rows);
    if (numWorkers === 0) return augmentBatch(images, decode, { rows: list, seed, epoch }, transform, size);
    const k = keyOf(epoch, list);
    const p = inflight.get(k) ?? dispatch(epoch, list);
    inflight.delete(k);
    topUp();
    return p;
  };
  return {
    size: train.length,
    plan(epoch, batches) {
      if (numWorkers === 0) return;
      queue = batches.map((positions) => ({ epoch, rows: Array.from(positions, (p) => train[p]!) }));
      topUp();
    },
    async makeBatch(positions: Int32Array, epoch: number): Promise<Batch> {
      const rows = Int32Array.from(positions, (p) => train[p]!);
      const x = await pixels(rows, epoch);
      const inputs = [tf.tensor4d(x, [rows.length, size, size, 3]), ...(extraInputs ? extraInputs(rows) : [])];
      return { inputs, labels: tf.tensor1d(Int32Array.from(rows, (r) => classOf[r]!), "int32"), indices: rows };
    },
    async close() {
      const ws = workers ?? [];
      workers = null;
      inflight.clear();
      queue = [];
      await Promise.all(ws.map((w) => w.terminate()));
    },
  };
}
