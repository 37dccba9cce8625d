/**
 * Image decoding with sharp into plain float arrays: `ImageData32` is HWC RGB in [0, 1], the
 * layout every augmentation in src/augment works on and the DataLoader stacks into batches.
 */
import sharp from "sharp";

/** An RGB image as floats: `data[(y * width + x) * 3 + c]`, values in [0, 1] (after normalisation, any range). */
export interface ImageData32 {
  data: Float32Array;
  height: number;
  width: number;
  channels: 3;
}

/** How an image is fitted to the requested size (sharp's fit modes). */
export type ImageFit = "fill" | "cover" | "contain" | "inside";

/** Options for {@link readImage}. */
export interface ReadImageOptions {
  /** Output size: a square side or `[height, width]`. Defaults to the image's own size. */
  size?: number | readonly [number, number];
  /** `fill` stretches, `cover` crops the centre, `contain` pads with white, `inside` keeps aspect within the box. Defaults to "fill". */
  fit?: ImageFit;
  /** Resampling kernel. Defaults to "linear" (bilinear, cheap and close to PIL's default). */
  kernel?: "nearest" | "linear" | "cubic" | "lanczos3";
}

/** Makes a blank (zero) image of the given size. */
export function emptyImage(height: number, width: number): ImageData32 {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`image size must be positive integers, got ${height}x${width}`);
  }
  return { data: new Float32Array(height * width * 3), height, width, channels: 3 };
}

/** Resolves a `size` option to `[height, width]`. */
export function sizeHW(size: number | readonly [number, number]): [number, number] {
  const [h, w] = typeof size === "number" ? [size, size] : [size[0], size[1]];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new Error(`size must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

/**
 * Decodes an image file (or buffer) with sharp: alpha flattened onto white, converted to sRGB,
 * resized, returned as HWC RGB floats in [0, 1].
 * @example const img = await readImage("train_images/a.png", { size: 224 });
 */
export async function readImage(input: string | Uint8Array, opts: ReadImageOptions = {}): Promise<ImageData32> {
  const { size, fit = "fill", kernel = "linear" } = opts;
  let s = sharp(input, { failOn: "error" }).flatten({ background: "#ffffff" }).toColourspace("srgb");
  if (size !== undefined) {
    const [h, w] = sizeHW(size);
    s = s.resize({ width: w, height: h, fit, background: "#ffffff", kernel });
  }
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const out = new Float32Array(width * height * 3);
  const inv = 1 / 255;
  if (channels === 3) {
    for (let i = 0; i < out.length; i++) out[i] = data[i]! * inv;
  } else {
    for (let p = 0, n = width * height; p < n; p++) {
      if (channels === 1 || channels === 2) {
        const v = data[p * channels]! * inv;
        out[p * 3] = v;
        out[p * 3 + 1] = v;
        out[p * 3 + 2] = v;
      } else {
        out[p * 3] = data[p * channels]! * inv;
        out[p * 3 + 1] = data[p * channels + 1]! * inv;
        out[p * 3 + 2] = data[p * channels + 2]! * inv;
      }
    }
  }
  return { data: out, height, width, channels: 3 };
}

/** Converts an image's [0, 1] floats (clamped) to 8-bit RGB bytes. */
export function imageToBytes(img: ImageData32): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

/** Encodes an image as PNG (values clamped to [0, 1]); for notebooks and debugging. */
export async function imageToPng(img: ImageData32): Promise<Buffer> {
  return sharp(imageToBytes(img), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}

/** Encodes an image as a `data:image/png;base64,…` URL. */
export async function imageToDataUrl(img: ImageData32): Promise<string> {
  return `data:image/png;base64,${(await imageToPng(img)).toString("base64")}`;
}

/** Reads an image's header only (format, width, height); throws when sharp cannot read it. */
export async function imageHeader(file: string): Promise<{ format: string; width: number; height: number }> {
  const m = await sharp(file).metadata();
  if (!m.width || !m.height || !m.format) throw new Error("no width/height/format in header");
  return { format: m.format, width: m.width, height: m.height };
}
