/** Saving and loading folds: `posting_id,fold` CSV plus a JSON sidecar (scheme, seed, k, …). */
import { existsSync, readFileSync } from "node:fs";
import { formatCsv, parseCsv } from "../data/csv";
import { writeFileAtomic } from "../fs_atomic";
import { type FoldScheme, FoldsError, type FoldSplit, foldsFromAssignment } from "./types";

export { FoldsError };

/** What the JSON sidecar (`<file>.json`) records. */
export interface FoldsMeta {
  scheme: FoldScheme;
  k: number;
  seed: number;
  shuffle: boolean;
  rows: number;
  /** Columns the split was made on, when any. */
  label?: string;
  group?: string;
  /** The source CSV, when known. */
  csv?: string;
  foldSizes: number[];
  createdAt: string;
}

/**
 * Writes `posting_id,fold` (atomically: temp file then rename) and `<file>.json` with the scheme,
 * seed and sizes, so the same folds can be rebuilt and checked.
 */
export function saveFolds(file: string, postingIds: readonly string[], split: FoldSplit, extra: { label?: string; group?: string; csv?: string } = {}): FoldsMeta {
  if (postingIds.length !== split.assignment.length) {
    throw new FoldsError(`saveFolds: ${postingIds.length} posting ids but the split has ${split.assignment.length} rows`);
  }
  const meta: FoldsMeta = {
    scheme: split.scheme,
    k: split.k,
    seed: split.seed,
    shuffle: split.shuffle,
    rows: postingIds.length,
    ...extra,
    foldSizes: split.folds.map((f) => f.valid.length),
    createdAt: new Date().toISOString(),
  };
  writeFileAtomic(file, formatCsv(["posting_id", "fold"], postingIds.map((id, i) => [id, split.assignment[i]!])));
  writeFileAtomic(`${file}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/** Reads folds saved by {@link saveFolds}; `postingIds` orders the rows (every one must be present). */
export function loadFolds(file: string, postingIds?: readonly string[]): { split: FoldSplit; postingIds: string[]; meta: FoldsMeta | null } {
  if (!existsSync(file)) throw new FoldsError(`folds file not found: ${file} (expected a posting_id,fold CSV from matchlab folds --out)`);
  const t = parseCsv(readFileSync(file, "utf8"), file);
  const ci = t.header.indexOf("posting_id");
  const cf = t.header.indexOf("fold");
  if (ci < 0 || cf < 0) throw new FoldsError(`${file}: expected columns posting_id,fold, got ${t.header.join(",")}`);
  const metaFile = `${file}.json`;
  let meta: FoldsMeta | null = null;
  if (existsSync(metaFile)) {
    try {
      meta = JSON.parse(readFileSync(metaFile, "utf8")) as FoldsMeta;
    } catch (e) {
      throw new FoldsError(`${metaFile}: not valid JSON (${e instanceof Error ? e.message : String(e)}); expected the sidecar matchlab folds writes ({scheme, k, seed, …}), or delete it`);
    }
    if (meta === null || typeof meta !== "object" || !Number.isInteger(meta.k) || meta.k < 1) throw new FoldsError(`${metaFile}: k is ${JSON.stringify((meta as { k?: unknown } | null)?.k)}, expected a positive integer (the number of folds)`);
  }
  const byId = new Map<string, number>();
  t.rows.forEach((r, i) => {
    if (r.length !== t.header.length) throw new FoldsError(`${file}:${t.lines[i]}: ${r.length} fields, expected ${t.header.length} (${t.header.join(",")})`);
    const f = Number(r[cf]);
    if (r[cf]!.trim() === "" || !Number.isInteger(f) || f < -1) throw new FoldsError(`${file}:${t.lines[i]}: fold ${JSON.stringify(r[cf])} is not an integer >= -1`);
    if (meta && f >= meta.k) throw new FoldsError(`${file}:${t.lines[i]}: fold ${f} is out of range (expected -1 or an integer in [0, ${meta.k - 1}] for k ${meta.k} in ${metaFile})`);
    if (byId.has(r[ci]!)) throw new FoldsError(`${file}:${t.lines[i]}: duplicate posting_id ${r[ci]} (expected one row per posting)`);
    byId.set(r[ci]!, f);
  });
  const ids = postingIds ? [...postingIds] : t.rows.map((r) => r[ci]!);
  const assignment = new Int32Array(ids.length);
  ids.forEach((id, i) => {
    const f = byId.get(id);
    if (f === undefined) throw new FoldsError(`${file}: posting_id ${id} has no fold (expected a row for every posting of the dataset; the folds were made for another dataset?)`);
    assignment[i] = f;
  });
  const k = meta?.k ?? Math.max(...assignment) + 1;
  return {
    split: { scheme: meta?.scheme ?? "kfold", k, seed: meta?.seed ?? 0, shuffle: meta?.shuffle ?? false, assignment, folds: foldsFromAssignment(assignment, k), warnings: [] },
    postingIds: ids,
    meta,
  };
}
