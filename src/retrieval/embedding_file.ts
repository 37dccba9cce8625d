/**
 * Embedding files for matching: `NAME.f32` (rows × dim float32, little-endian, row-major) with a
 * sidecar `NAME.json` ({format, dim, rows, postingIds?, name?, oof?, branch?, fold?, run?,
 * checkpoint?}). A matching run writes `runs/<id>/oof/<branch>.f32` (its validation rows' embeddings,
 * out of fold); `matchlab cv` merges its folds into `runs/<cv id>/oof/<branch>.f32`, one row per posting.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../fs_atomic";
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
  /** The sidecar's other fields (branch, fold, run, checkpoint), when it has them. */
  meta: EmbeddingsMeta;
}

/** Thrown by {@link readEmbeddingsFile} for a bad .f32 file or sidecar: the message names the file and what was expected. */
export class EmbeddingFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmbeddingFileError";
  }
}

/** Thrown by {@link runDir} when a run or cv id names no folder: the message names where it looked. */
export class RunNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunNotFoundError";
  }
}

/** The sidecar JSON. */
export interface EmbeddingsSidecar extends EmbeddingsMeta {
  format: string;
  dim: number;
  rows: number;
}

/** What a sidecar says about its rows besides their shape. */
export interface EmbeddingsMeta {
  /** Posting id of each row. */
  postingIds?: readonly string[];
  /** A display name. */
  name?: string;
  /** True when the rows are out-of-fold predictions. */
  oof?: boolean;
  /** The model branch the rows come from (image, text, fused). */
  branch?: string;
  /** The validation fold of the run (a number), or the folds a cv merged. */
  fold?: number | number[];
  /** The run (or cv) id. */
  run?: string;
  /** The checkpoint whose weights made the rows (best.ckpt, step-N.ckpt, or the runs' for a merge). */
  checkpoint?: string | string[];
}

const SIDECAR_KEYS = new Set(["format", "dim", "rows", "postingIds", "name", "oof", "branch", "fold", "run", "checkpoint"]);

/**
 * Writes `file` (.f32) and its sidecar atomically (temp file then rename).
 * @example writeEmbeddingsFile("runs/r1/oof_embeddings.f32", emb, 512, { postingIds, oof: true })
 */
export function writeEmbeddingsFile(file: string, data: Float32Array, dim: number, meta: EmbeddingsMeta = {}): void {
  if (!file.endsWith(".f32")) throw new Error(`writeEmbeddingsFile: ${file} must end in .f32`);
  if (!Number.isInteger(dim) || dim < 1 || data.length % dim !== 0) throw new Error(`writeEmbeddingsFile: ${data.length} values is not a whole number of rows of dim ${dim}`);
  const rows = data.length / dim;
  if (meta.postingIds && meta.postingIds.length !== rows) throw new Error(`writeEmbeddingsFile: ${meta.postingIds.length} posting ids for ${rows} rows`);
  writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const extra = Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined));
  const side: EmbeddingsSidecar = { format: EMBEDDINGS_FILE_FORMAT, dim, rows, ...extra };
  writeFileAtomic(file.replace(/\.f32$/, ".json"), `${JSON.stringify(side)}\n`);
}

/**
 * Reads a .f32 file and its sidecar (or, without a sidecar, uses `dim`).
 * @example const e = readEmbeddingsFile("emb.f32");
 */
export function readEmbeddingsFile(file: string, opts: { dim?: number; name?: string } = {}): EmbeddingsFile {
  if (!existsSync(file)) throw new EmbeddingFileError(`embeddings file not found: ${file} (expected a .f32 file of float32 rows)`);
  const sideFile = file.replace(/\.f32$/, ".json");
  let side: EmbeddingsSidecar | null = null;
  if (sideFile !== file && existsSync(sideFile)) {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(sideFile, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new EmbeddingFileError(`${sideFile}: not valid JSON (${e instanceof Error ? e.message : String(e)}); expected the sidecar {format, dim, rows, …} that writeEmbeddingsFile writes`);
    }
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new EmbeddingFileError(`${sideFile}: expected a JSON object {format, dim, rows, …}, got ${JSON.stringify(raw)}`);
    const bad = Object.keys(raw).filter((k) => !SIDECAR_KEYS.has(k));
    if (bad.length) throw new EmbeddingFileError(`${sideFile}: unknown key(s) ${bad.join(", ")} (expected ${[...SIDECAR_KEYS].join(", ")})`);
    if (raw.format !== EMBEDDINGS_FILE_FORMAT) throw new EmbeddingFileError(`${sideFile}: format is ${JSON.stringify(raw.format)}, expected "${EMBEDDINGS_FILE_FORMAT}"`);
    if (!Number.isInteger(raw.dim) || (raw.dim as number) < 1) throw new EmbeddingFileError(`${sideFile}: dim is ${JSON.stringify(raw.dim)}, expected a positive integer (the row width)`);
    if (!Number.isInteger(raw.rows) || (raw.rows as number) < 0) throw new EmbeddingFileError(`${sideFile}: rows is ${JSON.stringify(raw.rows)}, expected an integer >= 0`);
    if (raw.postingIds !== undefined && !(Array.isArray(raw.postingIds) && raw.postingIds.every((x) => typeof x === "string"))) throw new EmbeddingFileError(`${sideFile}: postingIds is not a list of strings (expected one posting id per row)`);
    side = raw as unknown as EmbeddingsSidecar;
  }
  const dim = side?.dim ?? opts.dim;
  if (!dim || !Number.isInteger(dim) || dim < 1) throw new EmbeddingFileError(`${file}: no sidecar ${path.basename(sideFile)} and no dim given (pass --dim, or write the file with writeEmbeddingsFile)`);
  const bytes = statSync(file).size;
  if (bytes % (4 * dim) !== 0) throw new EmbeddingFileError(`${file}: ${bytes} bytes is not a whole number of float32 rows of dim ${dim}`);
  const rows = bytes / (4 * dim);
  if (side && side.rows !== rows) throw new EmbeddingFileError(`${file}: sidecar says ${side.rows} rows but the file holds ${rows}`);
  if (side?.postingIds && side.postingIds.length !== rows) throw new EmbeddingFileError(`${sideFile}: ${side.postingIds.length} posting ids for ${rows} rows`);
  const buf = readFileSync(file);
  const data = new Float32Array(rows * dim);
  new Uint8Array(data.buffer).set(buf);
  return { file, name: opts.name ?? side?.name ?? path.basename(file, ".f32"), dim, rows, data, postingIds: side?.postingIds ? [...side.postingIds] : null, oof: side?.oof ?? false, meta: side ?? {} };
}

/** The folder of a run or cv: an id under `runsDir`, or a folder path. Throws naming where it looked. */
export function runDir(run: string, runsDir: string = env.runsDir): string {
  const dir = existsSync(run) && statSync(run).isDirectory() ? run : path.join(runsDir, run);
  if (!existsSync(dir)) throw new RunNotFoundError(`run not found: ${run} (looked for ${dir}; runs live in ${runsDir})`);
  return dir;
}

/**
 * The out-of-fold embeddings file of a run or cv (an id under `runsDir`, or a folder) for a branch:
 * `<dir>/oof/<branch>.f32`, written by `matchlab train` / `matchlab cv` for matching runs.
 */
export function runEmbeddingsFile(run: string, runsDir: string = env.runsDir, branch = "fused"): string {
  const dir = runDir(run, runsDir);
  const f = path.join(dir, "oof", `${branch}.f32`);
  if (existsSync(f)) return f;
  const have = existsSync(path.join(dir, "oof")) ? readdirSync(path.join(dir, "oof")).filter((x) => x.endsWith(".f32")).map((x) => x.replace(/\.f32$/, "")) : [];
  throw new EmbeddingFileError(`${run} (${dir}) has no out-of-fold embeddings for branch ${branch}${have.length ? ` (it has ${have.join("|")})` : " (matching runs with validation rows write oof/<branch>.f32 when they finish; a classify run or a data.fold: all run has none)"}`);
}

/**
 * Reorders a file's rows to follow `postingIds` (the dataset's order). Files without ids must
 * already have exactly one row per posting in dataset order.
 */
export function alignEmbeddings(e: EmbeddingsFile, postingIds: readonly string[]): Float32Array {
  if (!e.postingIds) {
    if (e.rows !== postingIds.length) throw new EmbeddingFileError(`${e.file}: ${e.rows} rows but the dataset has ${postingIds.length} postings, and no posting ids to align by`);
    return e.data;
  }
  const at = new Map(e.postingIds.map((id, i) => [id, i]));
  const out = new Float32Array(postingIds.length * e.dim);
  postingIds.forEach((id, i) => {
    const r = at.get(id);
    if (r === undefined) throw new EmbeddingFileError(`${e.file}: no row for posting ${id} (row ${i} of the dataset; expected a row for every posting)`);
    out.set(e.data.subarray(r * e.dim, (r + 1) * e.dim), i * e.dim);
  });
  return out;
}
