/**
 * Colour jitter like torchvision's ColorJitter: brightness, contrast, saturation and hue factors
 * drawn uniformly, applied in a random order; values clamped to [0, 1].
 */
import type { ImageData32 } from "../data/image";
import type { Rng } from "../rng";
import { applied, checkKeys, checkP, cloneImage, defineTransform, type ParamValue, type Transform } from "./transform";

/** Options for {@link colorJitter}. A number x means the factor range [max(0, 1-x), 1+x] (hue: [-x, x]). */
export interface ColorJitterOptions {
  /** Brightness jitter. Defaults to 0.2. */
  brightness?: number;
  /** Contrast jitter. Defaults to 0.2. */
  contrast?: number;
  /** Saturation jitter. Defaults to 0.2. */
  saturation?: number;
  /** Hue shift as a fraction of the colour wheel, at most 0.5. Defaults to 0.05. */
  hue?: number;
  /** Probability of jittering at all. Defaults to 1. */
  p?: number;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Multiplies every value by `f` (clamped). */
export function adjustBrightness(img: ImageData32, f: number): ImageData32 {
  const out = cloneImage(img);
  adjustBrightnessInPlace(out.data, f);
  return out;
}

function adjustBrightnessInPlace(d: Float32Array, f: number): void {
  for (let i = 0; i < d.length; i++) d[i] = clamp01(d[i]! * f);
}

/** Blends with the mean grey level (ITU-R 601 luma) by `f` (clamped). */
export function adjustContrast(img: ImageData32, f: number): ImageData32 {
  const out = cloneImage(img);
  adjustContrastInPlace(out.data, f);
  return out;
}

function adjustContrastInPlace(d: Float32Array, f: number): void {
  let mean = 0;
  for (let i = 0; i < d.length; i += 3) mean += 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
  mean /= d.length / 3;
  for (let i = 0; i < d.length; i++) d[i] = clamp01(mean + (d[i]! - mean) * f);
}

/** Blends each pixel with its own grey level by `f` (clamped). */
export function adjustSaturation(img: ImageData32, f: number): ImageData32 {
  const out = cloneImage(img);
  adjustSaturationInPlace(out.data, f);
  return out;
}

function adjustSaturationInPlace(d: Float32Array, f: number): void {
  for (let i = 0; i < d.length; i += 3) {
    const g = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
    d[i] = clamp01(g + (d[i]! - g) * f);
    d[i + 1] = clamp01(g + (d[i + 1]! - g) * f);
    d[i + 2] = clamp01(g + (d[i + 2]! - g) * f);
  }
}

/** Rotates hue by `shift` (a fraction of the wheel) through HSV. */
export function adjustHue(img: ImageData32, shift: number): ImageData32 {
  const out = cloneImage(img);
  adjustHueInPlace(out.data, shift);
  return out;
}

function adjustHueInPlace(d: Float32Array, shift: number): void {
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!;
    const g = d[i + 1]!;
    const b = d[i + 2]!;
    const mx = Math.max(r, g, b);
    const mn = Math.min(r, g, b);
    const c = mx - mn;
    if (c === 0) continue;
    let h: number;
    if (mx === r) h = ((g - b) / c) % 6;
    else if (mx === g) h = (b - r) / c + 2;
    else h = (r - g) / c + 4;
    h = (h / 6 + shift) % 1;
    if (h < 0) h += 1;
    const s = c / mx;
    const v = mx;
    const h6 = h * 6;
    const k = Math.floor(h6) % 6;
    const f = h6 - Math.floor(h6);
    const p = v * (1 - s);
    const q = v * (1 - s * f);
    const t = v * (1 - s * (1 - f));
    switch (k) {
      case 0:
        d[i] = v;
        d[i + 1] = t;
        d[i + 2] = p;
        break;
      case 1:
        d[i] = q;
        d[i + 1] = v;
        d[i + 2] = p;
        break;
      case 2:
        d[i] = p;
        d[i + 1] = v;
        d[i + 2] = t;
        break;
      case 3:
        d[i] = p;
        d[i + 1] = q;
        d[i + 2] = v;
        break;
      case 4:
        d[i] = t;
        d[i + 1] = p;
        d[i + 2] = v;
        break;
      default:
        d[i] = v;
        d[i + 1] = p;
        d[i + 2] = q;
    }
  }
}

function range(x: number, name: string, centre: 0 | 1): [number, number] {
  if (!(x >= 0)) throw new Error(`colorJitter: ${name} must be >= 0, got ${x}`);
  if (centre === 0 && x > 0.5) throw new Error(`colorJitter: hue must be in [0, 0.5], got ${x}`);
  return centre === 1 ? [Math.max(0, 1 - x), 1 + x] : [-x, x];
}

/** Randomly changes brightness, contrast, saturation and hue, in a random order. */
export function colorJitter(opts: ColorJitterOptions = {}): Transform {
  checkKeys(opts, ["brightness", "contrast", "saturation", "hue", "p"], "colorJitter");
  const { brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.05 } = opts;
  const p = checkP(opts.p ?? 1, "colorJitter");
  const ranges = {
    brightness: range(brightness, "brightness", 1),
    contrast: range(contrast, "contrast", 1),
    saturation: range(saturation, "saturation", 1),
    hue: range(hue, "hue", 0),
  };
  const fns = {
    brightness: adjustBrightnessInPlace,
    contrast: adjustContrastInPlace,
    saturation: adjustSaturationInPlace,
    hue: adjustHueInPlace,
  } as const;
  return defineTransform("colorJitter", { brightness, contrast, saturation, hue, p }, (img: ImageData32, rng: Rng) => {
    if (!rng.bool(p)) return applied(cloneImage(img), "colorJitter", { applied: false });
    const order = rng.shuffle(["brightness", "contrast", "saturation", "hue"] as Array<keyof typeof fns>);
    const drawn: Record<string, ParamValue> = {};
    const out = cloneImage(img);
    for (const k of order) {
      const [lo, hi] = ranges[k];
      const v = rng.uniform(lo, hi);
      drawn[k] = v;
      if (lo === hi && (k === "hue" ? lo === 0 : lo === 1)) continue;
      fns[k](out.data, v);
    }
    drawn.order = order.map((k) => k[0]).join("");
    return applied(out, "colorJitter", drawn);
  });
}
