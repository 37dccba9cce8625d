/**
 * The on-disk embedding cache: `<cacheDir>/embeddings/<encoder-id>/<pooling>/` holds raw float32
 * chunk files (`rows × dim`, little-endian) and one `manifest.json` naming them with their rows'
 * content keys (`content_key.ts`: the image bytes' or title's hash, never a posting id), the
 * weights hash and the preprocessing config. Behind two methods, `match` and
 * `put` (like transformers.js's cache). Writes go to a temp file then rename, chunk first and
 * manifest last, so a crash leaves the previous state readable. A manifest whose weights hash,
 * preprocessing, pooling or width differ from the encoder's is stale: it is never served, and
 * the next `put` replaces it, as it does a manifest of an older format (format 1 keyed rows on
 * posting ids alone).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { checkName } from "../names";
import { env } from "../env";
import { removeAtomicLeftovers, writeFileAtomic } from "../fs_atomic";
import { encoderDirName } from "./encoder";

/** The manifest format tag. */
export const EMBEDDING_CACHE_FORMAT = "matchlab-embeddings/2";

/** What a cache entry must match to be served. */
export interface EmbeddingCacheKey {
  /** The encoder id. */
  encoder: string;
  /** The pooling the rows were made with. */
  pooling: string;
  /** The hash of the encoder's weight files ({@link hashWeightFiles}). */
  weightsHash: string;
  /** Every preprocessing setting that changes the output. */
  preprocessing: Readonly<Record<string, unknown>>;
  /** The row width. */
  dim: number;
}

interface Chunk {
  file: string;
  rows: number;
  /** The content key of each row (`content_key.ts`). */
  keys: string[];
}

interface Manifest extends EmbeddingCacheKey {
  format: string;
  chunks: Chunk[];
  createdAt: string;
  updatedAt: string;
}

/** The result of {@link EmbeddingCache.match}. */
export interface EmbeddingCacheMatch {
  /** `[keys.length, dim]`; rows of missing keys are zeros. */
  vectors: Float32Array;
  /** 1 where the key was found. */
  hit: Uint8Array;
  /** Indexes (into the keys asked for) of the keys not found. */
  missing: number[];
}

/** Options for {@link openEmbeddingCache}. */
export interface EmbeddingCacheOptions extends EmbeddingCacheKey {
  /** The cache root. Defaults to `env.cacheDir`. */
  cacheDir?: string;
  /** Merge chunk files into one when there are more than this many. Defaults to 64. */
  compactAfter?: number;
}

/** Stable JSON (sorted keys) for comparing configs. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

const hashMemo = new Map<string, string>();

/** SHA-256 (hex, first 16 chars) over the files' names and bytes, memoised per path, size and mtime. */
export async function hashWeightFiles(files: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`weights file missing: ${f}`);
    const st = statSync(f);
    const memoKey = `${f}\0${st.size}\0${st.mtimeMs}`;
    let fh = hashMemo.get(memoKey);
    if (!fh) {
      const one = createHash("sha256");
      await new Promise<void>((resolve, reject) => {
        createReadStream(f)
          .on("data", (d) => one.update(d))
          .on("end", () => resolve())
          .on("error", reject);
      });
      fh = one.digest("hex");
      hashMemo.set(memoKey, fh);
    }
    h.update(`${path.basename(f)}\0${fh}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

/** Why a manifest does not match the key, or null when it does. */
function staleReason(m: Manifest, key: EmbeddingCacheKey): string | null {
  if (m.format !== EMBEDDING_CACHE_FORMAT) return `format ${m.format} ≠ ${EMBEDDING_CACHE_FORMAT}`;
  if (m.encoder !== key.encoder) return `encoder ${m.encoder} ≠ ${key.encoder}`;
  if (m.weightsHash !== key.weightsHash) return `weights hash ${m.weightsHash} ≠ ${key.weightsHash} (the model files changed)`;
  if (stableJson(m.preprocessing) !== stableJson(key.preprocessing)) return `preprocessing ${stableJson(m.preprocessing)} ≠ ${stableJson(key.preprocessing)}`;
  if (m.pooling !== key.pooling) return `pooling ${m.pooling} ≠ ${key.pooling}`;
  if (m.dim !== key.dim) return `dim ${m.dim} ≠ ${key.dim}`;
  return null;
}

/** An opened embedding cache for one (encoder, pooling); see the module comment. */
export class EmbeddingCache {
  /** The folder holding manifest.json and the chunks. */
  readonly dir: string;
  readonly key: EmbeddingCacheKey;
  /** Why the cache on disk was not served (weights or preprocessing changed…), or null. */
  readonly stale: string | null;
  private manifest: Manifest;
  private rows = new Map<string, number>();
  private data: Float32Array;
  private readonly compactAfter: number;

  /** Use {@link openEmbeddingCache}. */
  constructor(dir: string, key: EmbeddingCacheKey, manifest: Manifest, data: Float32Array, stale: string | null, compactAfter: number) {
    this.dir = dir;
    this.key = key;
    this.manifest = manifest;
    this.data = data;
    this.stale = stale;
    this.compactAfter = compactAfter;
    let r = 0;
    for (const c of manifest.chunks) for (const k of c.keys) this.rows.set(k, r++);
  }

  /** How many rows are stored (distinct content keys). */
  get size(): number {
    return this.rows.size;
  }

  /** Whether a content key is stored. */
  has(key: string): boolean {
    return this.rows.has(key);
  }

  /** Looks content keys up: their rows (zeros where missing), a hit mask and the missing indexes. */
  async match(keys: readonly string[]): Promise<EmbeddingCacheMatch> {
    const d = this.key.dim;
    const vectors = new Float32Array(keys.length * d);
    const hit = new Uint8Array(keys.length);
    const missing: number[] = [];
    keys.forEach((k, i) => {
      const r = this.rows.get(k);
      if (r === undefined) {
        missing.push(i);
        return;
      }
      hit[i] = 1;
      vectors.set(this.data.subarray(r * d, (r + 1) * d), i * d);
    });
    return { vectors, hit, missing };
  }

  /** Stores rows `[keys.length, dim]` for content `keys` as a new chunk (a later put of a key wins). */
  async put(keys: readonly string[], vectors: Float32Array): Promise<void> {
    const d = this.key.dim;
    if (vectors.length !== keys.length * d) throw new Error(`EmbeddingCache.put: ${vectors.length} values for ${keys.length} keys × dim ${d}`);
    if (new Set(keys).size !== keys.length) throw new Error("EmbeddingCache.put: duplicate keys in one put");
    if (keys.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    const file = `chunk-${String(this.manifest.chunks.length).padStart(5, "0")}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}.f32`;
    writeFileAtomic(path.join(this.dir, file), new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
    // Rows already present are replaced: rebuild the in-memory table in chunk order.
    const grown = new Float32Array(this.data.length + vectors.length);
    grown.set(this.data);
    grown.set(vectors, this.data.length);
    this.data = grown;
    let r = this.data.length / d - keys.length;
    for (const k of keys) this.rows.set(k, r++);
    this.manifest.chunks.push({ file, rows: keys.length, keys: [...keys] });
    this.manifest.updatedAt = new Date().toISOString();
    writeFileAtomic(path.join(this.dir, "manifest.json"), JSON.stringify(this.manifest));
    if (this.manifest.chunks.length > this.compactAfter) await this.compact();
  }

  /** Rewrites every chunk into one (dropping replaced rows) and removes the old chunk files. */
  async compact(): Promise<void> {
    const keys = [...this.rows.keys()];
    const m = await this.match(keys);
    const old = this.manifest.chunks.map((c) => c.file);
    const file = `chunk-all-${Date.now().toString(36)}.f32`;
    writeFileAtomic(path.join(this.dir, file), new Uint8Array(m.vectors.buffer));
    this.manifest.chunks = [{ file, rows: keys.length, keys }];
    writeFileAtomic(path.join(this.dir, "manifest.json"), JSON.stringify(this.manifest));
    for (const f of old) rmSync(path.join(this.dir, f), { force: true });
    this.data = m.vectors;
    this.rows = new Map(keys.map((k, i) => [k, i]));
  }
}

function emptyManifest(key: EmbeddingCacheKey): Manifest {
  const now = new Date().toISOString();
  return {
    format: EMBEDDING_CACHE_FORMAT,
    ...key,
    preprocessing: { ...key.preprocessing },
    chunks: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** The cache folder for an encoder and pooling. */
export function embeddingCacheDir(encoder: string, pooling: string, cacheDir: string = env.cacheDir): string {
  return path.join(cacheDir, "embeddings", encoderDirName(encoder), pooling);
}

/**
 * Opens (or starts) the cache for a key. A stale cache on disk is not loaded: `stale` says why,
 * and the first `put` writes a fresh manifest over it (its old chunks are then deleted).
 * @example
 * const cache = await openEmbeddingCache({ encoder: "use-lite", pooling: "mean", weightsHash, preprocessing, dim: 512 });
 * const { missing } = await cache.match(await contentKeys(titles, "text"));
 */
export async function openEmbeddingCache(opts: EmbeddingCacheOptions): Promise<EmbeddingCache> {
  const { cacheDir = env.cacheDir, compactAfter = 64, ...rest } = opts;
  const key: EmbeddingCacheKey = {
    encoder: rest.encoder,
    pooling: rest.pooling,
    weightsHash: rest.weightsHash,
    preprocessing: rest.preprocessing,
    dim: rest.dim,
  };
  const dir = embeddingCacheDir(key.encoder, key.pooling, cacheDir);
  const mfile = path.join(dir, "manifest.json");
  removeAtomicLeftovers(dir);
  if (!existsSync(mfile)) return new EmbeddingCache(dir, key, emptyManifest(key), new Float32Array(0), null, compactAfter);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(mfile, "utf8")) as Manifest;
  } catch (err) {
    return new EmbeddingCache(dir, key, emptyManifest(key), new Float32Array(0), `unreadable manifest ${mfile}: ${(err as Error).message}`, compactAfter);
  }
  // chunk names are joined to the folder and, when stale, removed: each must be one plain file name
  if (Array.isArray(m.chunks)) for (const c of m.chunks) checkName(`${mfile}: chunk file`, c?.file);
  let reason = staleReason(m, key);
  let data = new Float32Array(0);
  if (!reason) {
    const total = m.chunks.reduce((a, c) => a + c.rows, 0);
    data = new Float32Array(total * key.dim);
    let o = 0;
    for (const c of m.chunks) {
      const f = path.join(dir, c.file);
      const want = c.rows * key.dim * 4;
      if (!existsSync(f) || statSync(f).size !== want || !Array.isArray(c.keys) || c.keys.length !== c.rows) {
        reason = `chunk ${c.file} is missing or has the wrong size (expected ${want} bytes)`;
        break;
      }
      const buf = readFileSync(f);
      data.set(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), o);
      o += c.rows * key.dim;
    }
  }
  if (reason) {
    const fresh = emptyManifest(key);
    const cache = new EmbeddingCache(dir, key, fresh, new Float32Array(0), reason, compactAfter);
    // The first put writes the fresh manifest; then the stale chunks go.
    const staleFiles = Array.isArray(m.chunks) ? m.chunks.map((c) => c.file) : [];
    const put = cache.put.bind(cache);
    cache.put = async (keys, vectors) => {
      await put(keys, vectors);
      const keep = new Set(fresh.chunks.map((c) => c.file));
      for (const f of staleFiles) if (!keep.has(f)) rmSync(path.join(dir, f), { force: true });
      staleFiles.length = 0;
    };
    return cache;
  }
  return new EmbeddingCache(dir, key, m, data, null, compactAfter);
}
