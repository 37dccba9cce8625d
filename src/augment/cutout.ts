/** Cutout / coarse dropout: a random number of rectangles filled with a constant. */
import type { ImageData32 } from "../data/image";
import { fillRGB } from "./sample";
import { applied, checkKeys, checkP, cloneImage, defineTransform, type Transform } from "./transform";

/** Options for {@link coarseDropout}. Sizes ≤ 1 are fractions of the image side; larger ones are pixels. */
export interface CoarseDropoutOptions {
  /** Fewest holes. Defaults to 1. */
  minHoles?: number;
  /** Most holes. Defaults to 8. */
  maxHoles?: number;
  /** Largest hole height (fraction ≤ 1, or pixels). Defaults to 0.125. */
  maxHeight?: number;
  /** Largest hole width (fraction ≤ 1, or pixels). Defaults to 0.125. */
  maxWidth?: number;
  /** Smallest hole side (fraction ≤ 1, or pixels). Defaults to 1 pixel. */
  minSize?: number;
  /** Fill value. Defaults to 0. */
  fill?: number | [number, number, number];
  /** Probability of applying. Defaults to 0.5. */
  p?: number;
}

const px = (v: number, side: number) => Math.max(1, v <= 1 ? Math.round(v * side) : Math.round(v));

/** Fills between minHoles and maxHoles random rectangles with `fill` (albumentations' CoarseDropout). */
export function coarseDropout(opts: CoarseDropoutOptions = {}): Transform {
  checkKeys(opts, ["minHoles", "maxHoles", "maxHeight", "maxWidth", "minSize", "fill", "p"], "coarseDropout");
  const { minHoles = 1, maxHoles = 8, maxHeight = 0.125, maxWidth = 0.125, minSize = 1, fill = 0 } = opts;
  const p = checkP(opts.p ?? 0.5, "coarseDropout");
  if (!(Number.isInteger(minHoles) && Number.isInteger(maxHoles) && minHoles >= 0 && minHoles <= maxHoles)) {
    throw new Error(`coarseDropout: need integers 0 <= minHoles <= maxHoles, got ${minHoles}, ${maxHoles}`);
  }
  const f = fillRGB(fill, "coarseDropout");
  return defineTransform("coarseDropout", { minHoles, maxHoles, maxHeight, maxWidth, minSize, fill, p }, (img: ImageData32, rng) => {
    const out = cloneImage(img);
    if (!rng.bool(p)) return applied(out, "coarseDropout", { holes: 0 });
    const { width: W, height: H } = img;
    const n = minHoles + rng.int(maxHoles - minHoles + 1);
    const boxes: number[] = [];
    for (let k = 0; k < n; k++) {
      const hMax = Math.min(H, px(maxHeight, H));
      const wMax = Math.min(W, px(maxWidth, W));
      const hMin = Math.min(hMax, px(minSize, H));
      const wMin = Math.min(wMax, px(minSize, W));
      const hh = hMin + rng.int(hMax - hMin + 1);
      const ww = wMin + rng.int(wMax - wMin + 1);
      const y0 = rng.int(H - hh + 1);
      const x0 = rng.int(W - ww + 1);
      boxes.push(x0, y0, ww, hh);
      for (let y = y0; y < y0 + hh; y++) {
        for (let x = x0; x < x0 + ww; x++) {
          const o = (y * W + x) * 3;
          out.data[o] = f[0];
          out.data[o + 1] = f[1];
          out.data[o + 2] = f[2];
        }
      }
    }
    return applied(out, "coarseDropout", { holes: n, boxes });
  });
}

/** Alias of {@link coarseDropout} with one hole of up to half the image (DeVries & Taylor's cutout). */
export function cutout(opts: { size?: number; fill?: number | [number, number, number]; p?: number } = {}): Transform {
  checkKeys(opts, ["size", "fill", "p"], "cutout");
  const { size = 0.5, fill = 0, p = 1 } = opts;
  return coarseDropout({ minHoles: 1, maxHoles: 1, maxHeight: size, maxWidth: size, minSize: size, fill, p });
}
