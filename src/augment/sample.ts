/** Bilinear sampling helpers shared by the geometric transforms (half-pixel centres, as torch's align_corners=False). */
import { emptyImage, type ImageData32 } from "../data/image";

/**
 * Crops the region (top, left, height, width) — fractional allowed — and resizes it to outH×outW
 * with bilinear sampling clamped to the region's edge pixels (crop-then-resize semantics).
 */
export function cropResize(img: ImageData32, top: number, left: number, height: number, width: number, outH: number, outW: number): ImageData32 {
  const out = emptyImage(outH, outW);
  const { data: src, width: W, height: H } = img;
  const d = out.data;
  const sy = height / outH;
  const sx = width / outW;
  const y0min = Math.max(0, Math.ceil(top - 1e-9));
  const y0max = Math.min(H - 1, Math.floor(top + height - 1 + 1e-9));
  const x0min = Math.max(0, Math.ceil(left - 1e-9));
  const x0max = Math.min(W - 1, Math.floor(left + width - 1 + 1e-9));
  // Precompute x taps.
  const xa = new Int32Array(outW);
  const xb = new Int32Array(outW);
  const xf = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    let fx = left + (x + 0.5) * sx - 0.5;
    fx = Math.min(Math.max(fx, x0min), x0max);
    const ix = Math.floor(fx);
    xa[x] = ix * 3;
    xb[x] = Math.min(ix + 1, x0max) * 3;
    xf[x] = fx - ix;
  }
  for (let y = 0; y < outH; y++) {
    let fy = top + (y + 0.5) * sy - 0.5;
    fy = Math.min(Math.max(fy, y0min), y0max);
    const iy = Math.floor(fy);
    const wy = fy - iy;
    const ra = iy * W * 3;
    const rb = Math.min(iy + 1, y0max) * W * 3;
    let o = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const a = ra + xa[x]!;
      const b = ra + xb[x]!;
      const c = rb + xa[x]!;
      const e = rb + xb[x]!;
      const wx = xf[x]!;
      for (let ch = 0; ch < 3; ch++) {
        const top_ = src[a + ch]! + (src[b + ch]! - src[a + ch]!) * wx;
        const bot = src[c + ch]! + (src[e + ch]! - src[c + ch]!) * wx;
        d[o++] = top_ + (bot - top_) * wy;
      }
    }
  }
  return out;
}

/** Resolves a fill option (one number or an RGB triple) to an RGB triple. */
export function fillRGB(fill: number | readonly number[], where: string): [number, number, number] {
  if (typeof fill === "number") return [fill, fill, fill];
  if (fill.length !== 3) throw new Error(`${where}: fill must be a number or [r, g, b], got ${JSON.stringify(fill)}`);
  return [fill[0]!, fill[1]!, fill[2]!];
}
