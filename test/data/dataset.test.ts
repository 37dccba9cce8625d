import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DatasetError, labelCodes, loadDataset } from "../../src/data/dataset";
import { goodRows, makeDataset } from "./fixtures";

async function expectIssue(dir: string, kind: string, line: number, postingId: string, text: RegExp) {
  let err: unknown;
  try {
    await loadDataset(dir);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DatasetError);
  const issues = (err as DatasetError).issues;
  const hit = issues.find((i) => i.kind === kind);
  expect(hit, `issues: ${JSON.stringify(issues)}`).toBeDefined();
  expect(hit!.line).toBe(line);
  expect(hit!.postingId).toBe(postingId);
  expect((err as Error).message).toMatch(text);
  expect((err as Error).message).toContain(`line ${line}`);
  // skip mode drops exactly the bad rows and reports them
  const ds = await loadDataset(dir, { onBadRow: "skip", warn: false });
  expect(ds.skipped.some((i) => i.kind === kind && i.line === line)).toBe(true);
  expect(ds.listings.some((l) => l.postingId === postingId && kind !== "duplicate-posting-id")).toBe(false);
  return ds;
}

describe("loadDataset", () => {
  it("loads a good dataset with quoted titles, extras and absolute paths", async () => {
    const rows = goodRows(6).map((r, i) => ({ ...r, locale: i % 2 ? "en" : "fr" }));
    const dir = await makeDataset(rows);
    const ds = await loadDataset(dir);
    expect(ds.listings).toHaveLength(6);
    expect(ds.listings[1]!.title).toBe(rows[1]!.title);
    expect(ds.listings[1]!.title).toContain(', "quoted"');
    expect(ds.listings[2]!.imagePath).toBe(path.join(dir, "train_images", "i2.png"));
    expect(ds.listings[3]!.extra).toEqual({ locale: "en" });
    expect(ds.columns).toEqual(["posting_id", "image", "image_phash", "title", "label_group", "locale"]);
    const df = ds.frame();
    expect(df.shape).toEqual([6, 6]);
    expect(df.columns).toContain("locale");
    expect(ds.skipped).toEqual([]);
    const { codes, names } = labelCodes(ds.listings);
    expect(Array.from(codes)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(names).toEqual(["g0", "g1", "g2"]);
  });

  it("rejects a missing image", async () => {
    const rows = goodRows(4);
    const dir = await makeDataset(rows, { noImage: new Set(["i2.png"]) });
    const ds = await expectIssue(dir, "missing-image", 4, "p2", /image file not found/);
    // p3 is then alone in g1: reported too, never silently dropped
    expect(ds.skipped.map((i) => i.postingId).sort()).toEqual(["p2", "p3"]);
    expect(ds.skipped.find((i) => i.postingId === "p3")!.kind).toBe("small-group");
  });

  it("rejects a corrupt image", async () => {
    const dir = await makeDataset(goodRows(4));
    writeFileSync(path.join(dir, "train_images", "i1.png"), "not a png at all");
    await expectIssue(dir, "corrupt-image", 3, "p1", /does not decode/);
  });

  it("rejects a duplicate posting_id, keeping the first in skip mode", async () => {
    const rows = goodRows(6);
    rows[3]!.posting_id = "p0";
    const dir = await makeDataset(rows);
    const ds = await expectIssue(dir, "duplicate-posting-id", 5, "p0", /already used on line 2/);
    expect(ds.listings.filter((l) => l.postingId === "p0")).toHaveLength(1);
  });

  it("rejects an empty title", async () => {
    const rows = goodRows(4);
    rows[0]!.title = "  ";
    await expectIssue(await makeDataset(rows), "empty-title", 2, "p0", /title is empty/);
  });

  it("rejects an image path escaping the image folder", async () => {
    const rows = goodRows(4);
    rows[2]!.image = "../train.csv";
    await expectIssue(await makeDataset(rows), "image-escapes-folder", 4, "p2", /outside the image folder/);
    const rows2 = goodRows(4);
    rows2[1]!.image = "/etc/passwd";
    await expectIssue(await makeDataset(rows2), "image-escapes-folder", 3, "p1", /without \.\.\//);
  });

  it("rejects a label_group with one row unless minGroupSize is 1", async () => {
    const rows = goodRows(5);
    const dir = await makeDataset(rows);
    await expectIssue(dir, "small-group", 6, "p4", /label_group g2 has 1 valid row/);
    const ds = await loadDataset(dir, { minGroupSize: 1 });
    expect(ds.listings).toHaveLength(5);
  });

  it("rejects missing required columns, naming them", async () => {
    const dir = await makeDataset(goodRows(4), { columns: ["posting_id", "image", "title"] });
    await expect(loadDataset(dir)).rejects.toThrow(/missing required column label_group/);
    await expect(loadDataset(dir, { onBadRow: "skip" })).rejects.toThrow(/expected at least posting_id, image, title, label_group/);
  });

  it("reports a row with the wrong number of fields", async () => {
    const dir = await makeDataset(goodRows(4));
    writeFileSync(path.join(dir, "train.csv"), "posting_id,image,title,label_group\np0,i0.png,a,g0\np1,i1.png,a, b,g0\np2,i2.png,c,g1\np3,i3.png,d,g1\n");
    await expectIssue(dir, "wrong-field-count", 3, "p1", /5 fields, expected 4/);
  });

  it("lists every bad row in one error, in line order", async () => {
    const rows = goodRows(8);
    rows[1]!.title = "";
    rows[5]!.image = "../../x.png";
    const dir = await makeDataset(rows);
    const err = (await loadDataset(dir).catch((e) => e)) as DatasetError;
    expect(err.issues.map((i) => [i.line, i.kind])).toEqual([
      [2, "small-group"],
      [3, "empty-title"],
      [6, "small-group"],
      [7, "image-escapes-folder"],
    ]);
  });

  it("rejects unknown options", async () => {
    await expect(loadDataset("/nonexistent/ds", { onBadRows: "skip" } as never)).rejects.toThrow(/unknown option onBadRows \(expected csv\|imageDir\|onBadRow/);
  });

  it("says where the dataset should be when the CSV is missing", async () => {
    await expect(loadDataset("/nonexistent/ds")).rejects.toThrow(/dataset CSV not found.*train\.csv/);
  });
});
