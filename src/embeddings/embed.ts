/**
 * `embed(items, {model, pooling, normalize, batchSize})`: one entry point over every encoder,
 * batched, with a progress bar, and (given posting ids) served from and written to the on-disk
 * cache so that only new rows are computed.
 */
import { env } from "../env";
import { progress } from "../progress";
import { hashWeightFiles, openEmbeddingCache } from "./cache";
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
  /** One posting id per item: turns on the cache (only rows not cached are computed). Defaults to none (no cache). */
  ids?: readonly string[];
  /** Use the cache when ids are given. Defaults to true. */
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
 * const r = await embedItems(listings.map((l) => l.title), { model: "use-lite", ids: listings.map((l) => l.postingId) });
 * console.log(r.computed, r.cached, r.dim);
 */
export async function embedItems(items: readonly EmbedItem[], opts: EmbedOptions): Promise<EmbedResult> {
  const t0 = performance.now();
  const {
    model,
    normalize = false,
    batchSize = 32,
    ids,
    cache = true,
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
  const store =
    ids && cache
      ? await openEmbeddingCache({
          cacheDir,
          encoder: enc.id,
          pooling,
          weightsHash: await hashWeightFiles(enc.weightFiles),
          preprocessing: enc.preprocessing,
          dim,
        })
      : null;
  if (store) {
    stale = store.stale;
    if (stale) log(`embed ${model}: cache at ${store.dir} is stale and will be recomputed: ${stale}`);
    const m = await store.match(ids!);
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
        pending.map((i) => ids![i]!),
        rows,
      );
      pending = [];
    };
    try {
      // Identical string items (the same image path or title) are computed once.
      const firstOf = new Map<string, number>();
      const copies = new Map<number, number[]>();
      const unique: number[] = [];
      for (const i of todo) {
        const it = items[i];
        const f = typeof it === "string" ? firstOf.get(it) : undefined;
        if (f === undefined) {
          if (typeof it === "string") firstOf.set(it, i);
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
            pending.push(j);
            done++;
          }
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
