/**
 * Every listing's image decoded once at a small size into one Uint8Array. The on-disk cache is
 * content-addressed: each image's decoded RGB bytes live in
 * `env.cacheDir/images/<size>/<hh>/<sha256 of the image file>.u8`, so datasets sharing images
 * (a holdout split, a subset) share cache files, and an edited image gets a new entry. Hashing
 * the file is cheap next to decoding it; only misses are decoded.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type Dataset, rowImageError } from "./dataset";
import { imageError, MAX_IMAGE_PIXELS, readImage } from "./image";
import { env } from "../env";
import { writeFileAtomic } from "../fs_atomic";
import { progress } from "../progress";

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

/** How many images are read, hashed and (on a miss) decoded at once. */
const CONCURRENCY = 8;

/** The cache file of one image's decoded bytes: `<cacheDir>/images/<size>/<hh>/<hash>.u8`. */
export function imageCacheFile(sha256: string, size: number, cacheDir: string = env.cacheDir): string {
  return path.join(cacheDir, "images", String(size), sha256.slice(0, 2), `${sha256}.u8`);
}

/** Decodes image file bytes to `size`² RGB bytes (the [0, 1] floats of {@link readImage}, × 255 rounded); errors are ImageDecodeErrors naming `where`. */
async function decodeBytes(bytes: Uint8Array, size: number, where: string): Promise<Uint8Array> {
  let img: Awaited<ReturnType<typeof readImage>>;
  try {
    img = await readImage(bytes, { size });
  } catch (e) {
    throw await imageError(bytes, e, MAX_IMAGE_PIXELS, where);
  }
  const out = new Uint8Array(size * size * 3);
  for (let k = 0; k < out.length; k++) out[k] = Math.round(Math.min(1, Math.max(0, img.data[k]!)) * 255);
  return out;
}

/**
 * Decodes every listing's image to `size`² RGB bytes, through the content-addressed cache. An image
 * that is missing or does not decode throws a DatasetError naming its CSV line, posting_id and path.
 * @example const imgs = await loadImageBytes(ds, { size: 32 });
 */
export async function loadImageBytes(ds: Dataset, opts: ImageBytesOptions = {}): Promise<ImageBytes> {
  const { size = 32, cache = true, showProgress = env.progress } = opts;
  if (!Number.isInteger(size) || size < 8) throw new Error(`loadImageBytes: size must be an integer >= 8, got ${size}`);
  const n = ds.listings.length;
  const per = size * size * 3;
  const data = new Uint8Array(n * per);
  const cacheDir = env.cacheDir;
  // the first row seen with each image content, once its pixels are in `data`: duplicates copy them
  const firstRow = new Map<string, Promise<number>>();
  const fill = async (i: number, hash: string, bytes: Uint8Array, where: string): Promise<void> => {
    const file = imageCacheFile(hash, size, cacheDir);
    let buf: Uint8Array | null = null;
    try {
      buf = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    // a cache file of the wrong length (truncated or foreign) is ignored, decoded again and rewritten
    if (buf?.length === per) data.set(buf, i * per);
    else {
      const pixels = await decodeBytes(bytes, size, where);
      writeFileAtomic(file, pixels);
      data.set(pixels, i * per);
    }
  };
  const bar = showProgress ? progress({ label: `decode images ${size}px`, total: n }) : null;
  let next = 0;
  let failed = false;
  const one = async (i: number): Promise<void> => {
    const where = ds.listings[i]!.imagePath;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(where);
    } catch (e) {
      throw await imageError(where, e);
    }
    if (!cache) data.set(await decodeBytes(bytes, size, where), i * per);
    else {
      const hash = createHash("sha256").update(bytes).digest("hex");
      const first = firstRow.get(hash);
      if (first) {
        const j = await first;
        data.copyWithin(i * per, j * per, (j + 1) * per);
      } else {
        const done = fill(i, hash, bytes, where).then(() => i);
        firstRow.set(hash, done);
        await done;
      }
    }
  };
  const worker = async () => {
    while (!failed && next < n) {
      const i = next++;
      try {
        await one(i);
      } catch (e) {
        throw rowImageError(ds, ds.listings[i]!, e);
      }
      bar?.tick();
    }
  };
  // on an error the other workers finish the image in hand and stop, then the first error is thrown
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(CONCURRENCY, n) }, () =>
      worker().catch((e) => {
        failed = true;
        throw e;
      }),
    ),
  );
  const error = settled.find((r) => r.status === "rejected");
  if (error) throw (error as PromiseRejectedResult).reason;
  bar?.finish();
  return { size, n, data };
}
