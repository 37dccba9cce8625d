/**
 * The per-batch work the DataLoader does, on the main thread (numWorkers 0) or in a worker
 * thread: decode each image with sharp, apply the sample's augmentation (keyed by seed, epoch
 * and row index) and pack the batch into one B×H×W×3 Float32Array. Imports only ./image so
 * workers start fast.
 */
import { type ImageData32, type ImageFit, readImage } from "./image";

/** What a loader transform must offer: a module + spec to rebuild it in a worker, and `run`. */
export interface LoaderTransform {
  /** A module exporting `transformFromSpec(spec)` (src/augment's index for matchlab transforms). */
  readonly module: string;
  /** A JSON-safe description, passed to `transformFromSpec` in workers. */
  readonly spec: unknown;
  /** Applies the augmentation for (seed, epoch, index). */
  run(img: ImageData32, key: { seed: number; epoch: number; index: number }): { image: ImageData32 };
}

/** One batch's work order. */
export interface BatchTask {
  paths: string[];
  /** Dataset row index of each sample (keys its augmentation). */
  indices: number[];
  /** Where each sample comes from, for errors (e.g. `line 12 (posting_id abc)`). Defaults to `row <index>`. */
  rows?: string[];
  seed: number;
  epoch: number;
  size: [number, number];
  fit: ImageFit;
}

/** Decodes, augments and packs one batch; errors name the row (CSV line and posting_id when given) and the image. */
export async function loadBatchImages(task: BatchTask, transform: LoaderTransform | null): Promise<{ images: Float32Array; height: number; width: number }> {
  const decoded = await Promise.all(
    task.paths.map((p, i) =>
      readImage(p, { size: task.size, fit: task.fit }).catch((err: unknown) => {
        throw new Error(`${task.rows?.[i] ?? `row ${task.indices[i]}`}: ${err instanceof Error ? err.message : String(err)}`);
      }),
    ),
  );
  let images: Float32Array | null = null;
  let h = 0;
  let w = 0;
  decoded.forEach((img, i) => {
    const out = transform ? transform.run(img, { seed: task.seed, epoch: task.epoch, index: task.indices[i]! }).image : img;
    if (!images) {
      h = out.height;
      w = out.width;
      images = new Float32Array(task.paths.length * h * w * 3);
    } else if (out.height !== h || out.width !== w) {
      throw new Error(`sample ${task.paths[i]} (row ${task.indices[i]}) came out ${out.height}x${out.width}, but the batch is ${h}x${w} (end the transform with a fixed-size crop or resize)`);
    }
    images.set(out.data, i * h * w * 3);
  });
  return { images: images ?? new Float32Array(0), height: h, width: w };
}
