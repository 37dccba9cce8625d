/** Per-channel normalisation `(x - mean) / std`, ImageNet statistics by default. */
import type { ImageData32 } from "../data/image";
import { applied, checkKeys, defineTransform, type Transform } from "./transform";

/** ImageNet channel means (RGB). */
export const IMAGENET_MEAN: readonly [number, number, number] = Object.freeze([0.485, 0.456, 0.406]) as readonly [number, number, number];
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly [number, number, number] = Object.freeze([0.229, 0.224, 0.225]) as readonly [number, number, number];

/** Options for {@link normalizeImage}. */
export interface NormalizeImageOptions {
  /** Channel means. Defaults to ImageNet's. */
  mean?: [number, number, number];
  /** Channel standard deviations (all > 0). Defaults to ImageNet's. */
  std?: [number, number, number];
}

/** Subtracts `mean` and divides by `std` per channel (draws nothing). */
export function normalizeImage(opts: NormalizeImageOptions = {}): Transform {
  checkKeys(opts, ["mean", "std"], "normalize");
  const mean = opts.mean ?? [...IMAGENET_MEAN];
  const std = opts.std ?? [...IMAGENET_STD];
  if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s > 0))) {
    throw new Error(`normalize: mean and std must be 3 numbers with std > 0, got mean=${JSON.stringify(mean)} std=${JSON.stringify(std)}`);
  }
  const inv = std.map((s) => 1 / s);
  return defineTransform("normalize", { mean, std }, (img: ImageData32) => {
    const out = new Float32Array(img.data.length);
    for (let i = 0; i < out.length; i += 3) {
      out[i] = (img.data[i]! - mean[0]) * inv[0]!;
      out[i + 1] = (img.data[i + 1]! - mean[1]) * inv[1]!;
      out[i + 2] = (img.data[i + 2]! - mean[2]) * inv[2]!;
    }
    return applied({ data: out, height: img.height, width: img.width, channels: 3 }, "normalize", {});
  });
}
