/** Saving and loading folds: `posting_id,fold` CSV plus a JSON sidecar (scheme, seed, k, …). */
import { existsSync, readFileSync } from "node:fs";
import { formatCsv, parseCsv } from "../data/csv";
import { writeFileAtomic } from "../fs_atomic";
import { type FoldScheme, type FoldSplit, foldsFromAssignment } from "./types";

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
    throw new Error(`saveFolds: ${postingIds.length} posting ids but the split has ${split.assignment.length} rows`);
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
  const t = parseCsv(readFileSync(file, "utf8"), file);
  const ci = t.header.indexOf("posting_id");
  const cf = t.header.indexOf("fold");
  if (ci < 0 || cf < 0) throw new Error(`${file}: expected columns posting_id,fold, got ${t.header.join(",")}`);
  const metaFile = `${file}.json`;
  const meta: FoldsMeta | null = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, "utf8")) : null;
  const byId = new Map<string, number>();
  t.rows.forEach((r, i) => {
    const f = Number(r[cf]);
    if (!Number.isInteger(f) || f < -1) throw new Error(`${file}:${t.lines[i]}: fold ${JSON.stringify(r[cf])} is not an integer >= -1`);
    if (byId.has(r[ci]!)) throw new Error(`${file}:${t.lines[i]}: duplicate posting_id ${r[ci]}`);
    byId.set(r[ci]!, f);
  });
  const ids = postingIds ? [...postingIds] : t.rows.map((r) => r[ci]!);
  const assignment = new Int32Array(ids.length);
  ids.forEach((id, i) => {
    const f = byId.get(id);
    if (f === undefined) throw new Error(`${file}: posting_id ${id} has no fold (the folds were made for another dataset?)`);
    assignment[i] = f;
  });
  const k = meta?.k ?? Math.max(...assignment) + 1;
  return {
    split: { scheme: meta?.scheme ?? "kfold", k, seed: meta?.seed ?? 0, shuffle: meta?.shuffle ?? false, assignment, folds: foldsFromAssignment(assignment, k), warnings: [] },
    postingIds: ids,
    meta,
  };
}
