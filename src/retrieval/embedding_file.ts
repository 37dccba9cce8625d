/**
 * Embedding files for matching: `NAME.f32` (rows × dim float32, little-endian, row-major) with a
 * sidecar `NAME.json` ({format, dim, rows, postingIds?, name?, oof?}). A run folder provides
 * `oof_embeddings.f32` (out-of-fold, for tuning) or `embeddings.f32`, each with its sidecar.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../data/csv";
import { env } from "../env";

/** The sidecar's format tag. */
export const EMBEDDINGS_FILE_FORMAT = "matchlab-embeddings-file/1";

/** A loaded embedding matrix. */
export interface EmbeddingsFile {
  /** The .f32 file. */
  file: string;
  /** A display name (sidecar `name`, else the run or file name). */
  name: string;
  dim: number;
  rows: number;
  data: Float32Array;
  /** Posting id of each row, when the sidecar lists them. */
  postingIds: string[] | null;
  /** True when the rows are out-of-fold predictions. */
  oof: boolean;
}

/** The sidecar JSON. */
export interface EmbeddingsSidecar {
  format: string;
  dim: number;
  rows: number;
  postingIds?: string[];
  name?: string;
  oof?: boolean;
}

const SIDECAR_KEYS = new Set(["format", "dim", "rows", "postingIds", "name", "oof"]);

/**
 * Writes `file` (.f32) and its sidecar atomically (temp file then rename).
 * @example writeEmbeddingsFile("runs/r1/oof_embeddings.f32", emb, 512, { postingIds, oof: true })
 */
export function writeEmbeddingsFile(file: string, data: Float32Array, dim: number, meta: { postingIds?: readonly string[]; name?: string; oof?: boolean } = {}): void {
  if (!file.endsWith(".f32")) throw new Error(`writeEmbeddingsFile: ${file} must end in .f32`);
  if (!Number.isInteger(dim) || dim < 1 || data.length % dim !== 0) throw new Error(`writeEmbeddingsFile: ${data.length} values is not a whole number of rows of dim ${dim}`);
  const rows = data.length / dim;
  if (meta.postingIds && meta.postingIds.length !== rows) throw new Error(`writeEmbeddingsFile: ${meta.postingIds.length} posting ids for ${rows} rows`);
  writeFileAtomicSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const side: EmbeddingsSidecar = { format: EMBEDDINGS_FILE_FORMAT, dim, rows, ...(meta.postingIds ? { postingIds: [...meta.postingIds] } : {}), ...(meta.name ? { name: meta.name } : {}), ...(meta.oof !== undefined ? { oof: meta.oof } : {}) };
  writeFileAtomicSync(file.replace(/\.f32$/, ".json"), `${JSON.stringify(side)}\n`);
}

/**
 * Reads a .f32 file and its sidecar (or, without a sidecar, uses `dim`).
 * @example const e = readEmbeddingsFile("emb.f32");
 */
export function readEmbeddingsFile(file: string, opts: { dim?: number; name?: string } = {}): EmbeddingsFile {
  if (!existsSync(file)) throw new Error(`embeddings file not found: ${file}`);
  const sideFile = file.replace(/\.f32$/, ".json");
  let side: EmbeddingsSidecar | null = null;
  if (sideFile !== file && existsSync(sideFile)) {
    const raw = JSON.parse(readFileSync(sideFile, "utf8")) as Record<string, unknown>;
    const bad = Object.keys(raw).filter((k) => !SIDECAR_KEYS.has(k));
    if (bad.length) throw new Error(`${sideFile}: unknown key(s) ${bad.join(", ")} (expected ${[...SIDECAR_KEYS].join(", ")})`);
    if (raw.format !== EMBEDDINGS_FILE_FORMAT) throw new Error(`${sideFile}: format is ${JSON.stringify(raw.format)}, expected "${EMBEDDINGS_FILE_FORMAT}"`);
    side = raw as unknown as EmbeddingsSidecar;
  }
  const dim = side?.dim ?? opts.dim;
  if (!dim || !Number.isInteger(dim) || dim < 1) throw new Error(`${file}: no sidecar ${path.basename(sideFile)} and no dim given (pass --dim, or write the file with writeEmbeddingsFile)`);
  const bytes = statSync(file).size;
  if (bytes % (4 * dim) !== 0) throw new Error(`${file}: ${bytes} bytes is not a whole number of float32 rows of dim ${dim}`);
  const rows = bytes / (4 * dim);
  if (side && side.rows !== rows) throw new Error(`${file}: sidecar says ${side.rows} rows but the file holds ${rows}`);
  if (side?.postingIds && side.postingIds.length !== rows) throw new Error(`${sideFile}: ${side.postingIds.length} posting ids for ${rows} rows`);
  const buf = readFileSync(file);
  const data = new Float32Array(rows * dim);
  new Uint8Array(data.buffer).set(buf);
  return { file, name: opts.name ?? side?.name ?? path.basename(file, ".f32"), dim, rows, data, postingIds: side?.postingIds ?? null, oof: side?.oof ?? false };
}

/**
 * Resolves a run (an id under `env.runsDir`, or a folder path) to its embeddings file:
 * `oof_embeddings.f32` if present, else `embeddings.f32`.
 */
export function runEmbeddingsFile(run: string, runsDir: string = env.runsDir): string {
  const dir = existsSync(run) && statSync(run).isDirectory() ? run : path.join(runsDir, run);
  if (!existsSync(dir)) throw new Error(`run not found: ${run} (looked for ${dir}; runs live in ${runsDir})`);
  for (const f of ["oof_embeddings.f32", "embeddings.f32"]) if (existsSync(path.join(dir, f))) return path.join(dir, f);
  throw new Error(`run ${run} (${dir}) has no oof_embeddings.f32 or embeddings.f32 (write them with writeEmbeddingsFile)`);
}

/**
 * Reorders a file's rows to follow `postingIds` (the dataset's order). Files without ids must
 * already have exactly one row per posting in dataset order.
 */
export function alignEmbeddings(e: EmbeddingsFile, postingIds: readonly string[]): Float32Array {
  if (!e.postingIds) {
    if (e.rows !== postingIds.length) throw new Error(`${e.file}: ${e.rows} rows but the dataset has ${postingIds.length} postings, and no posting ids to align by`);
    return e.data;
  }
  const at = new Map(e.postingIds.map((id, i) => [id, i]));
  const out = new Float32Array(postingIds.length * e.dim);
  postingIds.forEach((id, i) => {
    const r = at.get(id);
    if (r === undefined) throw new Error(`${e.file}: no row for posting ${id} (row ${i} of the dataset)`);
    out.set(e.data.subarray(r * e.dim, (r + 1) * e.dim), i * e.dim);
  });
  return out;
}
