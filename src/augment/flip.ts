/** Horizontal and vertical flips, each with probability `p`. */
import type { ImageData32 } from "../data/image";
import { applied, checkKeys, checkP, cloneImage, defineTransform, type Transform } from "./transform";

/** Options for {@link horizontalFlip} and {@link verticalFlip}. */
export interface FlipOptions {
  /** Probability of flipping. Defaults to 0.5. */
  p?: number;
}

/** Mirrors an image left–right (always). */
export function flipImageH(img: ImageData32): ImageData32 {
  const { width: W, height: H, data } = img;
  const out = new Float32Array(data.length);
  for (let y = 0; y < H; y++) {
    const row = y * W * 3;
    for (let x = 0; x < W; x++) {
      const s = row + x * 3;
      const d = row + (W - 1 - x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { data: out, width: W, height: H, channels: 3 };
}

/** Mirrors an image top–bottom (always). */
export function flipImageV(img: ImageData32): ImageData32 {
  const { width: W, height: H, data } = img;
  const out = new Float32Array(data.length);
  const rowLen = W * 3;
  for (let y = 0; y < H; y++) out.set(data.subarray(y * rowLen, (y + 1) * rowLen), (H - 1 - y) * rowLen);
  return { data: out, width: W, height: H, channels: 3 };
}

/** Flips left–right with probability p. */
export function horizontalFlip(opts: FlipOptions = {}): Transform {
  checkKeys(opts, ["p"], "horizontalFlip");
  const p = checkP(opts.p ?? 0.5, "horizontalFlip");
  return defineTransform("horizontalFlip", { p }, (img, rng) => {
    const flipped = rng.bool(p);
    return applied(flipped ? flipImageH(img) : cloneImage(img), "hflip", { flipped });
  });
}

/** Flips top–bottom with probability p. */
export function verticalFlip(opts: FlipOptions = {}): Transform {
  checkKeys(opts, ["p"], "verticalFlip");
  const p = checkP(opts.p ?? 0.5, "verticalFlip");
  return defineTransform("verticalFlip", { p }, (img, rng) => {
    const flipped = rng.bool(p);
    return applied(flipped ? flipImageV(img) : cloneImage(img), "vflip", { flipped });
  });
}
