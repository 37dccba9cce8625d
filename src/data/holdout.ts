/**
 * Writes a held-out split of a dataset as a competition layout: `train.csv` (labelled, every
 * column), `test.csv` (`posting_id, image, image_phash, title`: no label_group, as a competition's
 * test set), `test_labels.csv` (`posting_id, label_group`, hidden from predict, for scoring), and
 * `train_images`/`test_images` links to the source's image folder.
 */
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { formatCsv } from "./csv";
import { writeFileAtomic } from "../fs_atomic";
import type { Dataset, Listing } from "./dataset";

/** The columns of a competition test.csv. */
export const TEST_COLUMNS: readonly string[] = Object.freeze(["posting_id", "image", "image_phash", "title"]);

function row(l: Listing, columns: readonly string[]): string[] {
  return columns.map((c) => (c === "posting_id" ? l.postingId : c === "image" ? l.image : c === "image_phash" ? l.imagePhash : c === "title" ? l.title : c === "label_group" ? l.labelGroup : (l.extra[c] ?? "")));
}

function link(target: string, at: string): void {
  const st = lstatSync(at, { throwIfNoEntry: false });
  if (st) {
    if (st.isSymbolicLink() && readlinkSync(at) === target) return;
    if (!st.isSymbolicLink()) throw new Error(`${at} exists and is not a link to ${target} (choose an empty --out folder)`);
    rmSync(at);
  }
  symlinkSync(target, at, "dir");
}

/**
 * Writes the split under `outDir` and returns the files written.
 * @example writeHoldout(ds, holdoutGroups(ds.listings.map((l) => l.labelGroup), { frac: 0.2 }), "data/sample-holdout")
 */
export function writeHoldout(ds: Dataset, split: { train: ArrayLike<number>; test: ArrayLike<number> }, outDir: string): { train: string; test: string; labels: string } {
  const pick = (rows: ArrayLike<number>) => Array.from(rows, (r) => ds.listings[r]!);
  const train = pick(split.train);
  const test = pick(split.test);
  mkdirSync(outDir, { recursive: true });
  const files = { train: path.join(outDir, "train.csv"), test: path.join(outDir, "test.csv"), labels: path.join(outDir, "test_labels.csv") };
  writeFileAtomic(files.train, formatCsv(ds.columns, train.map((l) => row(l, ds.columns))));
  writeFileAtomic(files.test, formatCsv(TEST_COLUMNS, test.map((l) => row(l, TEST_COLUMNS))));
  writeFileAtomic(files.labels, formatCsv(["posting_id", "label_group"], test.map((l) => [l.postingId, l.labelGroup])));
  for (const d of ["train_images", "test_images"]) link(ds.imageDir, path.join(outDir, d));
  return files;
}
