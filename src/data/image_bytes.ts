/**
 * Every listing's image decoded once at a small size into one Uint8Array (cached on disk under
 * `env.cacheDir/images/`). Decoding is the slow part, so the cache key is the CSV's path, size and
 * mtime plus the image size.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "./csv";
import type { Dataset } from "./dataset";
import { readImage } from "./image";
import { env } from "../env";
import { progress } from "../progress";
import { hashString } from "../rng";

/** Decoded images: n × size × size × 3 bytes (RGB, HWC). */
export interface ImageBytes {
  size: number;
  n: number;
  data: Uint8Array;
}

/** Options for {@link loadImageBytes}. */
export interface ImageBytesOptions {
  /** Side in pixels. Defaults to 32. */
  size?: number;
  /** Read and write the on-disk cache. Defaults to true. */
  cache?: boolean;
  /** Show a progress bar while decoding. Defaults to `env.progress`. */
  showProgress?: boolean;
}

/**
 * Decodes every listing's image to `size`² RGB bytes (cached on disk).
 * @example const imgs = await loadImageBytes(ds, { size: 32 });
 */
export async function loadImageBytes(ds: Dataset, opts: ImageBytesOptions = {}): Promise<ImageBytes> {
  const { size = 32, cache = true, showProgress = env.progress } = opts;
  if (!Number.isInteger(size) || size < 8) throw new Error(`loadImageBytes: size must be an integer >= 8, got ${size}`);
  const n = ds.listings.length;
  const st = statSync(ds.csvPath);
  const key = hashString(`${ds.csvPath}|${st.size}|${st.mtimeMs}|${n}|${size}`).toString(16);
  const file = path.join(env.cacheDir, "images", `images-${path.basename(ds.dir)}-${size}-${key}.u8`);
  const bytes = n * size * size * 3;
  if (cache && existsSync(file)) {
    const buf = readFileSync(file);
    if (buf.length === bytes)
      return {
        size,
        n,
        data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
      };
  }
  const data = new Uint8Array(bytes);
  const bar = showProgress ? progress({ label: `decode images ${size}px`, total: n }) : null;
  const per = size * size * 3;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const img = await readImage(ds.listings[i]!.imagePath, { size });
      const out = data.subarray(i * per, (i + 1) * per);
      for (let k = 0; k < per; k++) out[k] = Math.round(Math.min(1, Math.max(0, img.data[k]!)) * 255);
      bar?.tick();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  bar?.finish();
  if (cache) writeFileAtomicSync(file, data);
  return { size, n, data };
}
