/**
 * `embed(items, {model, pooling, normalize, batchSize})`: one entry point over every encoder,
 * batched, with a progress bar, and (with the cache on) served from and written to the on-disk
 * cache so that only new rows are computed. Cache rows are keyed on content (the image file's
 * bytes or the title's text, see `content_key.ts`), never on posting ids, so identical content is
 * computed once and datasets that reuse ids with other content never share a row.
 */
import { env } from "../env";
import { progress } from "../progress";
import { hashWeightFiles, openEmbeddingCache } from "./cache";
import { contentKeys } from "./content_key";
import type { EmbedItem, EncoderOptions } from "./encoder";
import { normalizeEmbeddingRows, parsePooling, type Pooling } from "./pooling";
import { loadEncoder } from "./registry";

/** Options for {@link embed} and {@link embedItems}. */
export interface EmbedOptions extends EncoderOptions {
  /** The encoder id, e.g. `mobilenet-v2@96`, `use-lite`, `hf-text:Xenova/all-MiniLM-L6-v2`. Required. */
  model: string;
  /** cls | mean | max. Defaults to the encoder's default (mean for mobilenet-v2, use-lite and hf-text; cls for hf-image). */
  pooling?: Pooling;
  /** L2-normalise each row. Defaults to false. */
  normalize?: boolean;
  /** Items per forward pass. Defaults to 32. */
  batchSize?: number;
  /** One posting id per item, checked to be one per item (rows are cached by content, not by id). Defaults to none. */
  ids?: readonly string[];
  /** Read and write the on-disk cache (rows keyed on content: image bytes or title text). Defaults to true when `ids` are given, false otherwise. */
  cache?: boolean;
  /** The cache root. Defaults to `env.cacheDir`. */
  cacheDir?: string;
  /** The progress bar's label. Defaults to `embed <model>`. */
  label?: string;
  /** Called with a line when something worth saying happens (a stale cache). Defaults to a line on stderr. */
  log?: (line: string) => void;
}

/** What {@link embedItems} returns. */
export interface EmbedResult {
  encoder: string;
  /** `[n, dim]` row-major. */
  vectors: Float32Array;
  n: number;
  dim: number;
  pooling: Pooling;
  normalized: boolean;
  /** Rows computed in this call (not served from the cache; identical items are encoded once). */
  computed: number;
  /** Rows served from the cache. */
  cached: number;
  /** Why the cache on disk was discarded, or null. */
  stale: string | null;
  /** Wall time in milliseconds. */
  ms: number;
}

/**
 * Embeds items and reports what was computed and what came from the cache.
 * @example
 * const r = await embedItems(listings.map((l) => l.title), { model: "use-lite", cache: true });
 * console.log(r.computed, r.cached, r.dim);
 */
export async function embedItems(items: readonly EmbedItem[], opts: EmbedOptions): Promise<EmbedResult> {
  const t0 = performance.now();
  const {
    model,
    normalize = false,
    batchSize = 32,
    ids,
    cache = ids !== undefined,
    cacheDir = env.cacheDir,
    label,
    log = (l: string) => process.stderr.write(`${l}\n`),
    ...encOpts
  } = opts;
  if (!model) throw new Error("embed: options.model is required (an encoder id such as mobilenet-v2 or use-lite)");
  delete (encOpts as Record<string, unknown>).pooling;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embed: batchSize must be a positive integer, got ${batchSize}`);
  if (ids && ids.length !== items.length) throw new Error(`embed: ${ids.length} ids for ${items.length} items (give one posting id per item)`);
  const enc = await loadEncoder(model, encOpts);
  const pooling = opts.pooling === undefined ? enc.defaultPooling : parsePooling(opts.pooling);
  if (!enc.poolings.includes(pooling)) throw new Error(`${model}: pooling ${pooling} is not supported (expected ${enc.poolings.join("|")})`);
  const dim = enc.dim;
  const n = items.length;
  let vectors = new Float32Array(n * dim);
  let todo: number[] = Array.from({ length: n }, (_, i) => i);
  let stale: string | null = null;
  const store = cache
    ? await openEmbeddingCache({
          cacheDir,
          encoder: enc.id,
          pooling,
          weightsHash: await hashWeightFiles(enc.weightFiles),
          preprocessing: enc.preprocessing,
          dim,
        })
      : null;
  // with the cache on, each item's content key (identical content: one key, computed once)
  const keys = store ? await contentKeys(items, enc.modality) : null;
  if (store) {
    stale = store.stale;
    if (stale) log(`embed ${model}: cache at ${store.dir} is stale and will be recomputed: ${stale}`);
    const m = await store.match(keys!);
    vectors = m.vectors;
    todo = m.missing;
  }
  if (todo.length > 0) {
    const bar = progress({
      label: label ?? `embed ${model}`,
      total: todo.length,
    });
    // Rows go to the cache in chunks of about `flushRows`, and whatever is done is kept on error.
    const flushRows = Math.max(batchSize, 1024);
    let pending: number[] = [];
    const flush = async () => {
      if (!store || pending.length === 0) return;
      const rows = new Float32Array(pending.length * dim);
      pending.forEach((i, r) => {
        rows.set(vectors.subarray(i * dim, (i + 1) * dim), r * dim);
      });
      await store.put(
        pending.map((i) => keys![i]!),
        rows,
      );
      pending = [];
    };
    try {
      // Identical items (the same content key, or without the cache the same path or title) are computed once.
      const dedupeKey = (i: number): string | undefined => {
        const it = items[i];
        return keys ? keys[i] : typeof it === "string" ? it : undefined;
      };
      const firstOf = new Map<string, number>();
      const copies = new Map<number, number[]>();
      const unique: number[] = [];
      for (const i of todo) {
        const k = dedupeKey(i);
        const f = k === undefined ? undefined : firstOf.get(k);
        if (f === undefined) {
          if (k !== undefined) firstOf.set(k, i);
          unique.push(i);
        } else {
          const c = copies.get(f);
          if (c) c.push(i);
          else copies.set(f, [i]);
        }
      }
      for (let s = 0; s < unique.length; s += batchSize) {
        const idx = unique.slice(s, s + batchSize);
        const out = await enc.encodeBatch(
          idx.map((i) => items[i]!),
          pooling,
        );
        if (out.length !== idx.length * dim) throw new Error(`${model}: a batch of ${idx.length} gave ${out.length} values, expected ${idx.length * dim}`);
        let done = 0;
        idx.forEach((i, r) => {
          const row = out.subarray(r * dim, (r + 1) * dim);
          for (const j of [i, ...(copies.get(i) ?? [])]) {
            vectors.set(row, j * dim);
            done++;
          }
          pending.push(i);
        });
        if (pending.length >= flushRows) await flush();
        bar.tick(done);
      }
    } finally {
      await flush();
      bar.finish();
    }
  }
  if (normalize) normalizeEmbeddingRows(vectors, dim);
  return {
    encoder: enc.id,
    vectors,
    n,
    dim,
    pooling,
    normalized: normalize,
    computed: todo.length,
    cached: n - todo.length,
    stale,
    ms: performance.now() - t0,
  };
}

/**
 * Embeds items to a `[n, dim]` Float32Array.
 * @example const x = await embed(["red heart", "blue heart"], { model: "use-lite", normalize: true });
 */
export async function embed(items: readonly EmbedItem[], opts: EmbedOptions): Promise<Float32Array> {
  return (await embedItems(items, opts)).vectors;
}
