/**
 * writeHoldout: a held-out split written as a competition layout (train.csv with every column,
 * test.csv without label_group, test_labels.csv, image-folder links), loadable again by
 * loadDataset; re-running into the same folder works, a real folder in a link's place is refused.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/data/csv";
import { type Dataset, loadDataset } from "../../src/data/dataset";
import { TEST_COLUMNS, writeHoldout } from "../../src/data/holdout";
import { holdoutGroups } from "../../src/folds/holdout";
import { goodRows, makeDataset } from "./fixtures";

let src = "";
let work = "";
let ds: Dataset;

beforeAll(async () => {
  // 12 rows in 4 groups of 3, an extra column, titles with commas and quotes
  src = await makeDataset(goodRows(12, 3).map((r, i) => ({ ...r, locale: i % 2 ? "en" : "fr" })));
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-holdout-"));
  ds = await loadDataset(src);
});
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const table = (file: string) => parseCsv(readFileSync(file, "utf8"), file);

describe("writeHoldout", () => {
  it("writes train.csv (every column), test.csv (no labels), test_labels.csv and image links", async () => {
    const split = holdoutGroups(ds.listings.map((l) => l.labelGroup), { frac: 0.25, seed: 1 });
    const out = path.join(work, "d2");
    const files = writeHoldout(ds, split, out);
    expect(files).toEqual({ train: path.join(out, "train.csv"), test: path.join(out, "test.csv"), labels: path.join(out, "test_labels.csv") });

    const tr = table(files.train);
    expect(tr.header).toEqual(ds.columns);
    expect(tr.header).toContain("locale");
    expect(tr.rows.map((r) => r[0])).toEqual(Array.from(split.train, (r) => ds.listings[r]!.postingId));

    const te = table(files.test);
    expect(te.header).toEqual([...TEST_COLUMNS]);
    expect(te.header).toEqual(["posting_id", "image", "image_phash", "title"]);
    expect(te.header).not.toContain("label_group");
    const testIds = Array.from(split.test, (r) => ds.listings[r]!.postingId);
    expect(te.rows.map((r) => r[0])).toEqual(testIds);
    // titles with commas and quotes survive the round trip; image and phash too
    te.rows.forEach((r, i) => {
      const l = ds.listings[split.test[i]!]!;
      expect(r).toEqual([l.postingId, l.image, l.imagePhash, l.title]);
    });

    const lab = table(files.labels);
    expect(lab.header).toEqual(["posting_id", "label_group"]);
    expect(lab.rows).toEqual(Array.from(split.test, (r) => [ds.listings[r]!.postingId, ds.listings[r]!.labelGroup]));

    for (const d of ["train_images", "test_images"]) {
      const at = path.join(out, d);
      expect(lstatSync(at).isSymbolicLink()).toBe(true);
      expect(readlinkSync(at)).toBe(ds.imageDir);
    }

    // both sides load again: train labelled, test unlabelled through test_images
    const train2 = await loadDataset(out);
    expect(train2.listings.map((l) => l.postingId)).toEqual(tr.rows.map((r) => r[0]));
    expect(train2.listings[0]!.extra).toEqual(ds.listings[split.train[0]!]!.extra);
    const test2 = await loadDataset(out, { csv: "test.csv", imageDir: "test_images", labels: "optional" });
    expect(test2.hasLabels).toBe(false);
    expect(test2.listings.map((l) => l.postingId)).toEqual(testIds);
    expect(test2.listings.every((l) => l.labelGroup === "" && existsSync(l.imagePath))).toBe(true);
    // no label group on both sides
    const trainGroups = new Set(train2.listings.map((l) => l.labelGroup));
    expect(lab.rows.some(([, g]) => trainGroups.has(g!))).toBe(false);
  });

  it("re-runs into the same folder, replacing the files and keeping or retargeting the links", () => {
    const out = path.join(work, "again");
    const groups = ds.listings.map((l) => l.labelGroup);
    writeHoldout(ds, holdoutGroups(groups, { frac: 0.25, seed: 0 }), out);
    const second = holdoutGroups(groups, { frac: 0.5, seed: 3 });
    writeHoldout(ds, second, out);
    expect(table(path.join(out, "test.csv")).rows.map((r) => r[0])).toEqual(Array.from(second.test, (r) => ds.listings[r]!.postingId));
    expect(table(path.join(out, "train.csv")).rows).toHaveLength(second.train.length);
    // a link pointing elsewhere is replaced by one to the dataset's images
    rmSync(path.join(out, "test_images"));
    symlinkSync(work, path.join(out, "test_images"), "dir");
    writeHoldout(ds, second, out);
    expect(readlinkSync(path.join(out, "test_images"))).toBe(ds.imageDir);
    expect(readlinkSync(path.join(out, "train_images"))).toBe(ds.imageDir);
  });

  it("refuses a real folder where a link goes", () => {
    const out = path.join(work, "blocked");
    mkdirSync(path.join(out, "train_images"), { recursive: true });
    const split = holdoutGroups(ds.listings.map((l) => l.labelGroup), { frac: 0.25 });
    expect(() => writeHoldout(ds, split, out)).toThrow(/train_images exists and is not a link to .*choose an empty --out folder/);
    expect(lstatSync(path.join(out, "train_images")).isDirectory()).toBe(true);
  });
});
