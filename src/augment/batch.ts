/**
 * A batch of augmented images from decoded uint8 pixels: each row's image (side `decode`, RGB) is
 * turned into floats in [0, 1], run through the transform with the stream of (seed, epoch, row),
 * and packed into one B×S×S×3 Float32Array. The same function runs on the main thread and in the
 * training loader's worker threads, so a batch does not depend on how many workers made it.
 */
import type { ImageData32 } from "../data/image";
import type { Transform } from "./transform";

const INV255 = 1 / 255;

/** One batch's work: which rows, and the key of their augmentation streams. */
export interface AugmentBatchTask {
  /** Dataset rows (index into the decoded images; also each sample's augmentation key). */
  rows: number[];
  seed: number;
  epoch: number;
}

/** The float image of row `r` of n × decode × decode × 3 decoded bytes. */
export function rowImage(images: Uint8Array, decode: number, r: number): ImageData32 {
  const px = decode * decode * 3;
  const data = new Float32Array(px);
  const src = images.subarray(r * px, (r + 1) * px);
  for (let k = 0; k < px; k++) data[k] = src[k]! * INV255;
  return { data, height: decode, width: decode, channels: 3 };
}

/**
 * Augments a batch; every output must be `size`×`size` (the model's input).
 * @example const x = augmentBatch(bytes, 32, { rows: [0, 5], seed: 0, epoch: 2 }, pipeline, 24);
 */
export function augmentBatch(images: Uint8Array, decode: number, task: AugmentBatchTask, transform: Transform, size: number): Float32Array {
  const per = size * size * 3;
  const out = new Float32Array(task.rows.length * per);
  task.rows.forEach((r, i) => {
    const img = transform.run(rowImage(images, decode, r), { seed: task.seed, epoch: task.epoch, index: r }).image;
    if (img.height !== size || img.width !== size) throw new Error(`data.augment made a ${img.height}×${img.width} image from row ${r}; the model takes ${size}×${size} (end the list with a crop or resize to data.image_size)`);
    out.set(img.data, i * per);
  });
  return out;
}
