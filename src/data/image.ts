/**
 * Image decoding with sharp into plain float arrays: `ImageData32` is HWC RGB in [0, 1], the
 * layout every augmentation in src/augment works on and the DataLoader stacks into batches.
 */
import { statSync } from "node:fs";
import sharp, { type Metadata, type OutputInfo } from "sharp";

/** The most pixels (width × height) an image may have; bigger ones are refused before decoding. Defaults of {@link ReadImageOptions.maxPixels} and of `loadDataset`'s `maxPixels`. */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Why an image cannot be read: its file is missing, it does not decode, or it has too many pixels. */
export type ImageErrorKind = "missing-image" | "corrupt-image" | "image-too-large";

/** Thrown by {@link readImage} (and the decoders built on it): names the file, what went wrong and what was expected. Callers that know the dataset row add it (`rowImageError` in dataset.ts). */
export class ImageDecodeError extends Error {
  /** The image file (or "<buffer>" for bytes). */
  readonly file: string;
  readonly kind: ImageErrorKind;
  /** What is wrong and what would be right, without the file name. */
  readonly reason: string;
  constructor(file: string, kind: ImageErrorKind, reason: string) {
    super(`image ${file}: ${reason}`);
    this.name = "ImageDecodeError";
    this.file = file;
    this.kind = kind;
    this.reason = reason;
  }
}

/** What a decodable image is, for error messages. */
const EXPECTED = "expected a complete PNG, JPEG, WebP, GIF or TIFF file";

/**
 * Turns an error of sharp on `file` into an {@link ImageDecodeError}: an empty file, a pixel count
 * over `maxPixels` (with the image's size), or a file that does not decode.
 */
export async function imageError(file: string | Uint8Array, err: unknown, maxPixels: number = MAX_IMAGE_PIXELS, name?: string): Promise<ImageDecodeError> {
  if (err instanceof ImageDecodeError) return err;
  const where = name ?? (typeof file === "string" ? file : "<buffer>");
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT" || (typeof file === "string" && /Input file is missing/.test(msg))) return new ImageDecodeError(where, "missing-image", "file not found (expected an image file inside the image folder)");
  let size = -1;
  try {
    size = typeof file === "string" ? statSync(file).size : file.byteLength;
  } catch {
    // the size is only for the message
  }
  if (size === 0) return new ImageDecodeError(where, "corrupt-image", `the file is empty (0 bytes; ${EXPECTED})`);
  if (/pixel limit/i.test(msg)) {
    let dims = "";
    try {
      const m = await sharp(file, { limitInputPixels: false }).metadata();
      if (m.width && m.height) dims = ` is ${m.width}×${m.height} = ${m.width * m.height} pixels,`;
    } catch {
      // the size is only for the message
    }
    return new ImageDecodeError(where, "image-too-large", `image${dims} over the limit of ${maxPixels} pixels (expected at most ${maxPixels} pixels; resize it)`);
  }
  return new ImageDecodeError(where, "corrupt-image", `does not decode (${msg}; ${EXPECTED})`);
}

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
  /** Refuse images with more pixels than this (an {@link ImageDecodeError} of kind image-too-large). Defaults to {@link MAX_IMAGE_PIXELS}. */
  maxPixels?: number;
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
 * resized, returned as HWC RGB floats in [0, 1]. A file that is missing, empty, truncated, not an
 * image or over `maxPixels` throws an {@link ImageDecodeError} naming it.
 * @example const img = await readImage("train_images/a.png", { size: 224 });
 */
export async function readImage(input: string | Uint8Array, opts: ReadImageOptions = {}): Promise<ImageData32> {
  const { size, fit = "fill", kernel = "linear", maxPixels = MAX_IMAGE_PIXELS } = opts;
  let s = sharp(input, { failOn: "error", limitInputPixels: maxPixels }).flatten({ background: "#ffffff" }).toColourspace("srgb");
  if (size !== undefined) {
    const [h, w] = sizeHW(size);
    s = s.resize({ width: w, height: h, fit, background: "#ffffff", kernel });
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await s.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw await imageError(input, err, maxPixels);
  }
  const { data, info } = decoded;
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

/** Reads an image's header only (format, width, height); throws an {@link ImageDecodeError} when sharp cannot read it or it has more than `maxPixels` pixels. */
export async function imageHeader(file: string, maxPixels: number = MAX_IMAGE_PIXELS): Promise<{ format: string; width: number; height: number }> {
  let m: Metadata;
  try {
    m = await sharp(file).metadata();
  } catch (err) {
    throw await imageError(file, err, maxPixels);
  }
  if (!m.width || !m.height || !m.format) throw new ImageDecodeError(file, "corrupt-image", `no width/height/format in the header (${EXPECTED})`);
  if (m.width * m.height > maxPixels) throw new ImageDecodeError(file, "image-too-large", `image is ${m.width}×${m.height} = ${m.width * m.height} pixels, over the limit of ${maxPixels} pixels (expected at most ${maxPixels} pixels; resize it)`);
  return { format: m.format, width: m.width, height: m.height };
}
