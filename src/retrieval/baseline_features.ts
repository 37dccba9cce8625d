/**
 * Cheap matching features computed straight from a dataset, so matching can be studied before
 * any model is trained: tiny-image pixels (mean-centred, L2-normalised thumbnails), hashed
 * character n-grams of titles (dense), TF-IDF titles (sparse), and the phash column.
 */
import type { Dataset } from "../data/dataset";
import { loadImageBytes } from "../data/image_bytes";
import { hashedNgrams } from "../models/text";
import { type SparseRows, tfidfVectors } from "./tfidf";
import { l2NormalizeRows } from "./vectors";

/** Options for {@link baselineFeatures}. */
export interface BaselineFeatureOptions {
  /** Thumbnail side in pixels (dim = side² × 3). Defaults to 16. */
  imageSize?: number;
  /** Hash buckets of the character n-gram features. Defaults to 512. */
  charDim?: number;
}

/** One dense feature block. */
export interface DenseBlock {
  data: Float32Array;
  dim: number;
}

/** The baseline features of every listing, in dataset order. */
export interface BaselineFeatures {
  /** Thumbnail pixels, each row centred on its mean and L2-normalised (so cosine = pixel correlation). */
  pixels: DenseBlock;
  /** Hashed character 2–4-grams plus words of the title, log-scaled and L2-normalised. */
  chars: DenseBlock;
  /** Word TF-IDF of the title. */
  tfidf: SparseRows;
  /** The image_phash column. */
  phash: string[];
}

/**
 * Computes the baseline features (images are decoded once and cached on disk).
 * @example const f = await baselineFeatures(await loadDataset(env.dataset));
 */
export async function baselineFeatures(ds: Dataset, opts: BaselineFeatureOptions = {}): Promise<BaselineFeatures> {
  const { imageSize = 16, charDim = 512 } = opts;
  const imgs = await loadImageBytes(ds, { size: imageSize });
  const dim = imageSize * imageSize * 3;
  const px = new Float32Array(imgs.n * dim);
  for (let i = 0; i < imgs.n; i++) {
    let mean = 0;
    for (let c = 0; c < dim; c++) mean += imgs.data[i * dim + c]!;
    mean /= dim;
    for (let c = 0; c < dim; c++) px[i * dim + c] = imgs.data[i * dim + c]! / 255 - mean / 255;
  }
  const titles = ds.listings.map((l) => l.title);
  return {
    pixels: { data: l2NormalizeRows(px, dim), dim },
    chars: { data: hashedNgrams(titles, { dim: charDim }), dim: charDim },
    tfidf: tfidfVectors(titles).vectors,
    phash: ds.listings.map((l) => l.imagePhash),
  };
}
