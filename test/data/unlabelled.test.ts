/**
 * Unlabelled datasets (a competition test.csv): `labels: "optional"` loads a CSV without
 * label_group with hasLabels false and empty label groups; the default still requires the column;
 * requireLabels names what needed the labels and why.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError, loadDataset, requireLabels } from "../../src/data/dataset";
import { goodRows, makeDataset } from "./fixtures";

const UNLABELLED = ["posting_id", "image", "image_phash", "title"];
let unlabelled = "";
let labelled = "";

beforeAll(async () => {
  // 5 rows, each of its own (unknown) group: no group-size check may apply
  unlabelled = await makeDataset(goodRows(5, 1), { columns: UNLABELLED });
  labelled = await makeDataset(goodRows(4));
});
afterAll(() => {
  rmSync(unlabelled, { recursive: true, force: true });
  rmSync(labelled, { recursive: true, force: true });
});

describe("loadDataset with labels: optional", () => {
  it("loads a CSV without label_group: hasLabels false, labelGroup empty, nothing dropped", async () => {
    const ds = await loadDataset(unlabelled, { labels: "optional" });
    expect(ds.hasLabels).toBe(false);
    expect(ds.columns).toEqual(UNLABELLED);
    expect(ds.listings.map((l) => l.postingId)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(ds.listings.every((l) => l.labelGroup === "")).toBe(true);
    expect(ds.listings[2]!.title).toBe(goodRows(5, 1)[2]!.title);
    expect(ds.listings[2]!.imagePath).toBe(path.join(unlabelled, "train_images", "i2.png"));
    expect(ds.skipped).toEqual([]);
    expect(ds.frame().shape).toEqual([5, 4]);
  });

  it("still validates the other columns of an unlabelled CSV", async () => {
    const dir = await makeDataset(goodRows(3, 1).map((r, i) => (i === 1 ? { ...r, title: " " } : r)), { columns: UNLABELLED });
    try {
      await expect(loadDataset(dir, { labels: "optional" })).rejects.toThrow(/line 3 \(posting_id p1\): empty-title/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads a labelled CSV as before, with hasLabels true", async () => {
    const ds = await loadDataset(labelled, { labels: "optional" });
    expect(ds.hasLabels).toBe(true);
    expect(ds.listings.map((l) => l.labelGroup)).toEqual(["g0", "g0", "g1", "g1"]);
    expect((await loadDataset(labelled)).hasLabels).toBe(true);
  });

  it("by default rejects a CSV without label_group, naming the column", async () => {
    let err: unknown;
    try {
      await loadDataset(unlabelled);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).issues).toEqual([expect.objectContaining({ line: 1, kind: "missing-column" })]);
    expect((err as Error).message).toMatch(/missing required column label_group \(header is: posting_id, image, image_phash, title;/);
    await expect(loadDataset(unlabelled, { labels: "required" })).rejects.toThrow(/missing required column label_group/);
  });

  it("requires the other columns even when labels are optional", async () => {
    const dir = await makeDataset(goodRows(2, 1), { columns: ["posting_id", "image", "image_phash"] });
    try {
      await expect(loadDataset(dir, { labels: "optional" })).rejects.toThrow(/missing required column title \(/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("requireLabels", () => {
  it("throws naming what needs the labels, why, and the CSV", async () => {
    const ds = await loadDataset(unlabelled, { labels: "optional" });
    expect(() => requireLabels(ds, "matchlab match --tune", "it tunes thresholds against the groups")).toThrow(
      `matchlab match --tune needs the label_group column, which ${ds.csvPath} lacks: it tunes thresholds against the groups`,
    );
    expect(() => requireLabels(ds, "x", "y")).toThrow(/an unlabelled test set can only be embedded and matched/);
  });

  it("passes a labelled dataset", async () => {
    const ds = await loadDataset(labelled, { labels: "optional" });
    expect(() => requireLabels(ds, "matchlab match --tune", "tuning")).not.toThrow();
    expect(() => requireLabels({ hasLabels: true, csvPath: "x.csv" }, "a", "b")).not.toThrow();
  });
});
