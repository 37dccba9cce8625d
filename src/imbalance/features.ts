/**
 * Inputs for the small classifiers: every listing's image decoded once at a small size into one
 * Uint8Array (cached on disk under `env.cacheDir/classify/`), and hashed word-token ids of the
 * classifier text (title with or without tags). Decoding is the slow part, so the cache key is the
 * CSV's path, size and mtime plus the image size.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../data/csv";
import type { Dataset } from "../data/dataset";
import { readImage } from "../data/image";
import { env } from "../env";
import { tokenIds } from "../models/text";
import { progress } from "../progress";
import { hashString } from "../rng";
import { classifierText } from "./classify";

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
  const file = path.join(env.cacheDir, "classify", `images-${path.basename(ds.dir)}-${size}-${key}.u8`);
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

/** Options for {@link classifierTokens}. */
export interface ClassifierTokenOptions {
  /** Append the listing's tags to the title. Defaults to false. */
  withTags?: boolean;
  /** Token vocabulary (hash buckets). Defaults to 4096. */
  vocab?: number;
  /** Sequence length. Defaults to 24. */
  maxLen?: number;
}

/**
 * Hashed word-token ids [n × maxLen] of each listing's classifier text.
 * @example const tok = classifierTokens(ds.listings, { withTags: true });
 */
export function classifierTokens(listings: Dataset["listings"], opts: ClassifierTokenOptions = {}): Int32Array {
  const { withTags = false, vocab = 4096, maxLen = 24 } = opts;
  return tokenIds(
    listings.map((l) => classifierText(l, withTags)),
    { vocab, maxLen },
  );
}
