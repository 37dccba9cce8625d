/** Embedding a whole dataset's images or titles through the cache (rows keyed on content, not posting_id). */
import { type Dataset, ImageDecodeError, type Listing, loadDataset, rowImageError } from "../data/index";
import { type EmbedOptions, type EmbedResult, embedItems } from "./embed";
import type { Modality } from "./encoder";
import { encoderSource } from "./registry";

/** Options for {@link embedDataset}. */
export interface EmbedDatasetOptions extends EmbedOptions {
  /** Which column to embed: `auto` picks images for image encoders and titles for text ones. Defaults to "auto". */
  field?: "auto" | Modality | "title";
  /** Embed only the first `limit` listings. Defaults to all. */
  limit?: number;
}

/** An {@link EmbedResult} with the listings' posting ids and label groups, row-aligned. */
export interface DatasetEmbeddings extends EmbedResult {
  ids: string[];
  labels: string[];
  field: Modality;
}

/**
 * Embeds a dataset (a folder or a loaded {@link Dataset}) with the cache on: only listings not yet
 * cached are computed. An image that cannot be read or decoded throws a DatasetError naming its
 * CSV line, posting_id and path.
 * @example const e = await embedDataset(env.dataset, { model: "mobilenet-v2@96", normalize: true });
 */
export async function embedDataset(dataset: string | Dataset, opts: EmbedDatasetOptions): Promise<DatasetEmbeddings> {
  const { field = "auto", limit, ...rest } = opts;
  const ds = typeof dataset === "string" ? await loadDataset(dataset) : dataset;
  const src = encoderSource(rest.model);
  const f: Modality = field === "auto" ? src.modality : field === "title" ? "text" : field;
  if (f !== src.modality) throw new Error(`encoder ${rest.model} reads ${src.modality}s, but field is ${field}`);
  let listings: Listing[] = ds.listings;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
    listings = listings.slice(0, limit);
  }
  const items = listings.map((l) => (f === "image" ? l.imagePath : l.title));
  const ids = listings.map((l) => l.postingId);
  let r: EmbedResult;
  try {
    r = await embedItems(items, { ...rest, ids });
  } catch (e) {
    // an image that cannot be read or decoded is named by its row: CSV line, posting_id, path
    const file = e instanceof ImageDecodeError ? e.file : null;
    const row = file === null ? undefined : listings.find((l) => l.imagePath === file);
    throw row ? rowImageError(ds, row, e) : e;
  }
  return { ...r, ids, labels: listings.map((l) => l.labelGroup), field: f };
}
