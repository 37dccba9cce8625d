/**
 * loadImageBytes: the content-addressed decoded-image cache (`<cacheDir>/images/<size>/<hh>/<sha256>.u8`).
 * Decodes are counted with a pass-through spy on the real readImage (sharp still decodes).
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DatasetError, loadDataset, type Dataset } from "../../src/data/dataset";
import { writeHoldout } from "../../src/data/holdout";
import { readImage } from "../../src/data/image";
import { imageCacheFile, loadImageBytes } from "../../src/data/image_bytes";
import { env } from "../../src/env";
import { goodRows, makeDataset, writeGradientPng } from "./fixtures";

vi.mock("../../src/data/image", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/data/image")>();
  return { ...real, readImage: vi.fn(real.readImage) };
});
const decodes = vi.mocked(readImage);

const SIZE = 12;
const PER = SIZE * SIZE * 3;
const made: string[] = [];
let cacheDir = "";
const savedCacheDir = env.cacheDir;

async function dataset(n = 6): Promise<Dataset> {
  const dir = await makeDataset(goodRows(n));
  made.push(dir);
  return loadDataset(dir, { warn: false });
}

/** Every cache file under `<cacheDir>/images/<SIZE>`, with its mtime. */
function cacheFiles(): Map<string, number> {
  const root = path.join(cacheDir, "images", String(SIZE));
  const out = new Map<string, number>();
  for (const sub of readdirSync(root)) for (const f of readdirSync(path.join(root, sub))) out.set(path.join(root, sub, f), statSync(path.join(root, sub, f)).mtimeMs);
  return out;
}

/** A direct decode of one image file: readImage's floats × 255, rounded. */
async function direct(file: string): Promise<number[]> {
  const img = await readImage(file, { size: SIZE });
  return Array.from(img.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
}

const rowOf = (data: Uint8Array, i: number) => Array.from(data.subarray(i * PER, (i + 1) * PER));
const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

beforeAll(() => {
  env.progress = false;
});
beforeEach(() => {
  cacheDir = mkdtempSync(path.join(os.tmpdir(), "matchlab-imgcache-"));
  env.cacheDir = cacheDir;
  decodes.mockClear();
});
afterEach(() => {
  env.cacheDir = savedCacheDir;
  rmSync(cacheDir, { recursive: true, force: true });
});
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe("loadImageBytes", () => {
  it("gives the bytes of a direct readImage decode (× 255, rounded), cached or not", async () => {
    const ds = await dataset(6);
    const imgs = await loadImageBytes(ds, { size: SIZE });
    expect(imgs.size).toBe(SIZE);
    expect(imgs.n).toBe(6);
    expect(imgs.data.length).toBe(6 * PER);
    for (let i = 0; i < 6; i++) expect(rowOf(imgs.data, i)).toEqual(await direct(ds.listings[i]!.imagePath));
    const uncached = await loadImageBytes(ds, { size: SIZE, cache: false });
    expect(uncached.data).toEqual(imgs.data);
    // one file per image, named by the sha256 of the image file's bytes
    for (const l of ds.listings) expect(readFileSync(imageCacheFile(sha(l.imagePath), SIZE)).length).toBe(PER);
    expect(cacheFiles().size).toBe(6);
  });

  it("decodes nothing on a second call, and each distinct image once", async () => {
    const rows = goodRows(6);
    rows[4]!.image = "i1.png"; // rows 1 and 4 share one file
    const dir = await makeDataset(rows);
    made.push(dir);
    const ds = await loadDataset(dir, { warn: false });
    const first = await loadImageBytes(ds, { size: SIZE });
    expect(decodes).toHaveBeenCalledTimes(5);
    expect(rowOf(first.data, 4)).toEqual(rowOf(first.data, 1));
    const before = cacheFiles();
    expect(before.size).toBe(5);
    for (const f of before.keys()) utimesSync(f, new Date(1_000_000), new Date(1_000_000));
    const stamped = cacheFiles();
    decodes.mockClear();
    const second = await loadImageBytes(ds, { size: SIZE });
    expect(decodes).not.toHaveBeenCalled();
    expect(cacheFiles()).toEqual(stamped); // nothing rewritten, nothing added
    expect(second.data).toEqual(first.data);
  });

  it("shares cache files between datasets holding the same images (a holdout split, a copy)", async () => {
    const ds = await dataset(6);
    const all = await loadImageBytes(ds, { size: SIZE });
    const files = cacheFiles();
    decodes.mockClear();

    const out = mkdtempSync(path.join(os.tmpdir(), "matchlab-imgsplit-"));
    made.push(out);
    writeHoldout(ds, { train: [0, 1, 4, 5], test: [2, 3] }, out);
    const train = await loadDataset(out, { warn: false });
    const test = await loadDataset(out, { labels: "optional", csv: "test.csv", imageDir: "test_images", warn: false });
    const copy = mkdtempSync(path.join(os.tmpdir(), "matchlab-imgcopy-"));
    made.push(copy);
    cpSync(ds.dir, copy, { recursive: true });
    const copied = await loadDataset(copy, { warn: false });

    const tr = await loadImageBytes(train, { size: SIZE });
    const te = await loadImageBytes(test, { size: SIZE });
    const cp = await loadImageBytes(copied, { size: SIZE });
    expect(decodes).not.toHaveBeenCalled();
    expect(cacheFiles()).toEqual(files);
    for (const [i, r] of [0, 1, 4, 5].entries()) expect(rowOf(tr.data, i)).toEqual(rowOf(all.data, r));
    for (const [i, r] of [2, 3].entries()) expect(rowOf(te.data, i)).toEqual(rowOf(all.data, r));
    expect(cp.data).toEqual(all.data);
  });

  it("serves new pixels for an edited image (same path, same CSV), for that row only", async () => {
    const ds = await dataset(6);
    const csvBefore = readFileSync(ds.csvPath, "utf8");
    const before = await loadImageBytes(ds, { size: SIZE });
    const edited = ds.listings[2]!.imagePath;
    await writeGradientPng(edited, 99);
    expect(readFileSync(ds.csvPath, "utf8")).toBe(csvBefore);
    decodes.mockClear();
    const after = await loadImageBytes(ds, { size: SIZE });
    expect(decodes).toHaveBeenCalledTimes(1);
    expect(rowOf(after.data, 2)).toEqual(await direct(edited));
    expect(rowOf(after.data, 2)).not.toEqual(rowOf(before.data, 2));
    for (const i of [0, 1, 3, 4, 5]) expect(rowOf(after.data, i)).toEqual(rowOf(before.data, i));
    expect(cacheFiles().size).toBe(7); // the old entry stays (still valid for its bytes), one new
  });

  it("ignores a cache file of the wrong length and rewrites it", async () => {
    const ds = await dataset(4);
    const good = await loadImageBytes(ds, { size: SIZE });
    const file = imageCacheFile(sha(ds.listings[1]!.imagePath), SIZE);
    writeFileSync(file, new Uint8Array(PER - 7).fill(1));
    decodes.mockClear();
    const again = await loadImageBytes(ds, { size: SIZE });
    expect(decodes).toHaveBeenCalledTimes(1);
    expect(again.data).toEqual(good.data);
    expect(readFileSync(file).length).toBe(PER);
    expect(Array.from(readFileSync(file))).toEqual(rowOf(good.data, 1));
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("names the row (CSV line, posting_id) and the image it cannot decode: not an image, empty, truncated, missing", async () => {
    const ds = await dataset(4);
    const good = readFileSync(ds.listings[1]!.imagePath);
    const cases: [Uint8Array | null, RegExp][] = [
      [Buffer.from("not a png"), /line 3 \(posting_id p1\): corrupt-image: image .*i1\.png: does not decode \(.*expected a complete PNG/],
      [new Uint8Array(0), /line 3 \(posting_id p1\): corrupt-image: image .*i1\.png: the file is empty \(0 bytes/],
      [good.subarray(0, Math.floor(good.length / 2)), /line 3 \(posting_id p1\): corrupt-image: image .*i1\.png: does not decode/],
      [null, /line 3 \(posting_id p1\): missing-image: image .*i1\.png: file not found/],
    ];
    for (const [bytes, want] of cases) {
      if (bytes) writeFileSync(ds.listings[1]!.imagePath, bytes);
      else rmSync(ds.listings[1]!.imagePath);
      const err = await loadImageBytes(ds, { size: SIZE, cache: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).message).toMatch(want);
      expect((err as DatasetError).issues.map((i) => [i.line, i.postingId])).toEqual([[3, "p1"]]);
    }
  });
});
