/** `imageGrid(items)`: thumbnails with captions, embedded as base64 PNG (sharp), no files linked. */
import path from "node:path";
import sharp, { type Sharp } from "sharp";
import { displayBundle } from "./display";
import { escapeHtmlText, type MimeBundle } from "./outputs";

/** Raw pixels: HWC, `Uint8Array`/`Uint8ClampedArray` in 0–255 or `Float32Array` in [0, 1] (an `ImageData32`). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). Defaults to data.length / (width·height). */
  channels?: number;
}

/** One grid cell. */
export interface ImageGridItem {
  /** An image file path (relative paths against `baseDir`), encoded image bytes, or raw pixels. */
  src: string | Uint8Array | PixelImage;
  /** Text under the image. Defaults to none. */
  caption?: string;
  /** A coloured frame (green for a true match, red for a false one…). Defaults to none. */
  color?: string;
}

/** Options for {@link imageGrid}. */
export interface ImageGridOptions {
  /** Thumbnail side in pixels (images are fitted inside, aspect kept). Defaults to 96. */
  size?: number;
  /** Columns; 0 fills the width. Defaults to 0. */
  columns?: number;
  /** Folder that relative paths are resolved against. Defaults to the working directory (the project root in the kernel). */
  baseDir?: string;
  /** Smooth or blocky upscaling of small images (augmentation previews look better "nearest"). Defaults to "lanczos3". */
  kernel?: "nearest" | "lanczos3";
  /** A title above the grid. Defaults to none. */
  title?: string;
  /** Characters of caption shown before it is cut (the full text stays in the tooltip). Defaults to 60. */
  maxCaption?: number;
}

async function thumbnail(item: ImageGridItem, i: number, size: number, baseDir: string, kernel: "nearest" | "lanczos3"): Promise<Buffer> {
  const { src } = item;
  let img: Sharp;
  let where: string;
  if (typeof src === "string") {
    where = path.resolve(baseDir, src);
    img = sharp(where, { failOn: "error" });
  } else if (src instanceof Uint8Array && !("width" in src)) {
    where = `${src.length} encoded bytes`;
    img = sharp(src, { failOn: "error" });
  } else {
    const p = src as PixelImage;
    const n = p.width * p.height;
    const channels = p.channels ?? p.data.length / n;
    where = `pixels ${p.width}x${p.height}x${channels}`;
    if (!Number.isInteger(n) || n <= 0 || ![1, 3, 4].includes(channels) || p.data.length !== n * channels) {
      throw new Error(`imageGrid: item ${i}: pixel data of length ${p.data.length} does not fit ${p.width}x${p.height} with 1, 3 or 4 channels`);
    }
    let bytes: Uint8Array;
    if (p.data instanceof Float32Array) {
      bytes = new Uint8Array(p.data.length);
      for (let k = 0; k < bytes.length; k++) {
        const v = p.data[k]!;
        bytes[k] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
      }
    } else bytes = new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    img = sharp(bytes, { raw: { width: p.width, height: p.height, channels: channels as 1 | 3 | 4 } });
  }
  try {
    return await img
      .resize({ width: size, height: size, fit: "inside", kernel, withoutEnlargement: false })
      .png()
      .toBuffer();
  } catch (e) {
    throw new Error(`imageGrid: item ${i}: cannot read image (${where}): ${(e as Error).message}`);
  }
}

/** The grid's HTML bundle (thumbnails encoded as data URLs); async because sharp is. */
export async function imageGridBundle(items: readonly ImageGridItem[], opts: ImageGridOptions = {}): Promise<MimeBundle> {
  const { size = 96, columns = 0, baseDir = process.cwd(), kernel = "lanczos3", title, maxCaption = 60 } = opts;
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new Error(`imageGrid: size must be an integer in 8..1024, got ${size}`);
  if (!Number.isInteger(columns) || columns < 0) throw new Error(`imageGrid: columns must be a non-negative integer, got ${columns}`);
  if (kernel !== "nearest" && kernel !== "lanczos3") throw new Error(`unknown kernel: ${kernel} (expected nearest|lanczos3)`);
  const pngs: Buffer[] = new Array(items.length);
  // a few at a time: sharp has its own thread pool
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      pngs[i] = await thumbnail(items[i]!, i, size, baseDir, kernel);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, items.length) }, worker));
  const cols = columns > 0 ? `repeat(${columns}, ${size + 12}px)` : `repeat(auto-fill, ${size + 12}px)`;
  const cells = items.map((it, i) => {
    const cap = it.caption ?? "";
    const short = cap.length > maxCaption ? `${cap.slice(0, maxCaption - 1)}…` : cap;
    const frame = it.color ? `outline:3px solid ${escapeHtmlText(it.color)};outline-offset:-3px;` : "";
    return (
      `<figure style="margin:0;padding:4px;width:${size + 4}px;text-align:center;${frame}" title="${escapeHtmlText(cap)}">` +
      `<img src="data:image/png;base64,${pngs[i]!.toString("base64")}" alt="${escapeHtmlText(short)}" style="max-width:${size}px;max-height:${size}px;image-rendering:${kernel === "nearest" ? "pixelated" : "auto"}"/>` +
      (cap ? `<figcaption style="font-size:11px;line-height:1.2;overflow-wrap:anywhere">${escapeHtmlText(short)}</figcaption>` : "") +
      "</figure>"
    );
  });
  const html =
    `<div class="matchlab-image-grid">` +
    (title ? `<div style="font-weight:600;margin:2px 0">${escapeHtmlText(title)}</div>` : "") +
    `<div style="display:grid;grid-template-columns:${cols};gap:6px;align-items:start">${cells.join("")}</div></div>`;
  const text = `<image grid: ${items.length} image${items.length === 1 ? "" : "s"}${title ? ` "${title}"` : ""}>`;
  return { data: { "text/html": html, "text/plain": text }, metadata: {} };
}

/**
 * Shows images in a grid with captions.
 * @example await ml.imageGrid(rows.slice(0, 12).map((r) => ({ src: path.join(ml.env.dataset, "train_images", r.image), caption: r.title })))
 */
export async function imageGrid(items: readonly ImageGridItem[], opts: ImageGridOptions = {}): Promise<void> {
  displayBundle(await imageGridBundle(items, opts));
}
