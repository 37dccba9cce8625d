/** Random rotation about the centre by an angle in [-degrees, degrees], bilinear, with a fill colour. */
import { emptyImage, type ImageData32 } from "../data/image";
import { fillRGB } from "./sample";
import { applied, checkKeys, checkP, cloneImage, defineTransform, type Transform } from "./transform";

/** Options for {@link randomRotation}. */
export interface RandomRotationOptions {
  /** Largest absolute angle in degrees (or an explicit [lo, hi] range). Defaults to 15. */
  degrees?: number | [number, number];
  /** Probability of rotating at all. Defaults to 1. */
  p?: number;
  /** Value for pixels rotated in from outside. Defaults to 1 (white, the flattened background). */
  fill?: number | [number, number, number];
}

/** Rotates an image by `angle` degrees (counter-clockwise) about its centre, keeping its size; bilinear, `fill` outside. */
export function rotateImage(img: ImageData32, angle: number, fill: readonly number[]): ImageData32 {
  const { width: W, height: H, data: src } = img;
  const out = emptyImage(H, W);
  const d = out.data;
  const rad = (angle * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  const f0 = fill[0]!;
  const f1 = fill[1]!;
  const f2 = fill[2]!;
  for (let y = 0; y < H; y++) {
    const dy = y - cy;
    for (let x = 0; x < W; x++) {
      const dx = x - cx;
      // inverse map: rotate the output point by -angle (image y axis points down)
      const fx = cos * dx - sin * dy + cx;
      const fy = sin * dx + cos * dy + cy;
      const o = (y * W + x) * 3;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        d[o] = f0;
        d[o + 1] = f1;
        d[o + 2] = f2;
        continue;
      }
      const wx = fx - x0;
      const wy = fy - y0;
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < W;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < H;
      const i00 = inY0 && inX0 ? (y0 * W + x0) * 3 : -1;
      const i01 = inY0 && inX1 ? (y0 * W + x0 + 1) * 3 : -1;
      const i10 = inY1 && inX0 ? ((y0 + 1) * W + x0) * 3 : -1;
      const i11 = inY1 && inX1 ? ((y0 + 1) * W + x0 + 1) * 3 : -1;
      for (let c = 0; c < 3; c++) {
        const fc = c === 0 ? f0 : c === 1 ? f1 : f2;
        const p00 = i00 >= 0 ? src[i00 + c]! : fc;
        const p01 = i01 >= 0 ? src[i01 + c]! : fc;
        const p10 = i10 >= 0 ? src[i10 + c]! : fc;
        const p11 = i11 >= 0 ? src[i11 + c]! : fc;
        const t = p00 + (p01 - p00) * wx;
        const b = p10 + (p11 - p10) * wx;
        d[o + c] = t + (b - t) * wy;
      }
    }
  }
  return out;
}

/** Rotates by a uniform angle in [-degrees, degrees] with probability p. */
export function randomRotation(opts: RandomRotationOptions = {}): Transform {
  checkKeys(opts, ["degrees", "p", "fill"], "rotate");
  const { degrees = 15, fill = 1 } = opts;
  const p = checkP(opts.p ?? 1, "rotate");
  const [lo, hi] = typeof degrees === "number" ? [-Math.abs(degrees), Math.abs(degrees)] : degrees;
  if (!(lo <= hi)) throw new Error(`rotate: degrees range must be [lo, hi] with lo <= hi, got ${JSON.stringify(degrees)}`);
  const f = fillRGB(fill, "rotate");
  return defineTransform("rotate", { degrees, p, fill }, (img, rng) => {
    if (!rng.bool(p)) return applied(cloneImage(img), "rotate", { angle: 0 });
    const angle = rng.uniform(lo, hi);
    return applied(rotateImage(img, angle, f), "rotate", { angle });
  });
}
