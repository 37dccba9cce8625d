import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { colorJitter, compose, horizontalFlip, normalizeImage, randomResizedCrop } from "../../src/augment/index";
import { type Dataset, loadDataset } from "../../src/data/dataset";
import { readImage } from "../../src/data/image";
import { type DataLoader, dataLoader, type LoaderBatch } from "../../src/data/loader";
import { goodRows, makeDataset } from "./fixtures";

const pipe = () => compose([randomResizedCrop({ size: 8, scale: [0.4, 1] }), horizontalFlip(), colorJitter(), normalizeImage()]);

async function collect(loader: DataLoader): Promise<LoaderBatch[]> {
  const out: LoaderBatch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

describe("DataLoader", () => {
  let ds: Dataset;
  const open: DataLoader[] = [];
  const make = (o: Parameters<typeof dataLoader>[1]) => {
    const l = dataLoader(ds, o);
    open.push(l);
    return l;
  };
  beforeAll(async () => {
    ds = await loadDataset(await makeDataset(goodRows(22)));
  });
  afterAll(async () => {
    await Promise.all(open.map((l) => l.close()));
  });

  it("batches in order with labels, ids and the decoded pixels", async () => {
    const l = make({ batchSize: 5, imageSize: [6, 7] });
    const bs = await collect(l);
    expect(bs.map((b) => b.shape)).toEqual([[5, 6, 7, 3], [5, 6, 7, 3], [5, 6, 7, 3], [5, 6, 7, 3], [2, 6, 7, 3]]);
    expect(Array.from(bs[1]!.indices)).toEqual([5, 6, 7, 8, 9]);
    expect(Array.from(bs[1]!.labels)).toEqual([2, 3, 3, 4, 4]);
    expect(bs[1]!.postingIds[0]).toBe("p5");
    const img = await readImage(ds.listings[6]!.imagePath, { size: [6, 7] });
    expect(Array.from(bs[1]!.images.subarray(6 * 7 * 3, 2 * 6 * 7 * 3))).toEqual(Array.from(img.data));
    expect(l.state()).toMatchObject({ epoch: 1, batch: 0 });
  });

  it("drops the last short batch with dropLast and shuffles per epoch, seeded", async () => {
    const l = make({ batchSize: 5, dropLast: true, shuffle: true, seed: 3, imageSize: 4 });
    expect(l.length).toBe(4);
    const e0 = (await collect(l)).flatMap((b) => Array.from(b.indices));
    const e1 = (await collect(l)).flatMap((b) => Array.from(b.indices));
    expect(e0).toHaveLength(20);
    expect(e0).not.toEqual(e1);
    expect(new Set(e0).size).toBe(20);
    expect(Array.from(l.order(0)).slice(0, 20)).toEqual(e0);
    expect(Array.from(make({ shuffle: true, seed: 3 }).order(0))).toEqual(Array.from(l.order(0)));
  });

  it("gives the same batches for 0, 1 and 2 workers", async () => {
    const opts = { batchSize: 4, shuffle: true, seed: 11, imageSize: 10, transform: pipe(), indices: Array.from({ length: 18 }, (_, i) => i + 2) };
    const runs = await Promise.all([0, 1, 2].map((numWorkers) => collect(make({ ...opts, numWorkers }))));
    for (const r of runs.slice(1)) {
      expect(r.map((b) => Array.from(b.indices))).toEqual(runs[0]!.map((b) => Array.from(b.indices)));
      r.forEach((b, i) => {
        expect(b.shape).toEqual([b.indices.length, 8, 8, 3]);
        expect(Array.from(b.images)).toEqual(Array.from(runs[0]![i]!.images));
      });
    }
    // augmentation differs between epochs
    const l = make({ ...opts, numWorkers: 1 });
    const a = await collect(l);
    const b = await collect(l);
    expect(Array.from(a[0]!.images)).not.toEqual(Array.from(b.find((x) => x.indices.includes(a[0]!.indices[0]!))!.images));
  });

  it("resumes mid-epoch from state() with the same remaining batches", async () => {
    const opts = { batchSize: 3, shuffle: true, seed: 5, imageSize: 10, transform: pipe() };
    const full = make(opts);
    await collect(full); // epoch 0
    const e1 = await collect(full);
    const l = make(opts);
    await collect(l);
    let saved = l.state();
    for await (const b of l) {
      if (b.batch === 2) {
        saved = l.state();
        break;
      }
    }
    expect(saved).toMatchObject({ epoch: 1, batch: 3 });
    const resumed = make({ ...opts, numWorkers: 1 });
    resumed.restore(JSON.parse(JSON.stringify(saved)));
    const rest = await collect(resumed);
    expect(rest.map((b) => b.batch)).toEqual(e1.slice(3).map((b) => b.batch));
    rest.forEach((b, i) => {
      expect(Array.from(b.images)).toEqual(Array.from(e1[i + 3]!.images));
    });
    expect(() => make({ ...opts, batchSize: 4 }).restore(saved)).toThrow(/batchSize is 3 in the saved state but 4 here/);
    const opt = make({ ...opts, epoch: 1, startBatch: 3 });
    expect((await collect(opt)).map((b) => b.batch)).toEqual([3, 4, 5, 6, 7]);
  });

  it("reports an image that fails to decode, from the main thread and from a worker", async () => {
    const dir = await makeDataset(goodRows(6));
    const d = await loadDataset(dir);
    writeFileSync(path.join(dir, "train_images", "i3.png"), "garbage");
    await expect(collect(dataLoader(d, { batchSize: 2, imageSize: 4 }))).rejects.toThrow(/line 5 \(posting_id p3\): image .*i3\.png: does not decode \(.*expected a complete PNG/);
    const lw = dataLoader(d, { batchSize: 2, imageSize: 4, numWorkers: 1 });
    open.push(lw);
    await expect(collect(lw)).rejects.toThrow(/line 5 \(posting_id p3\): image .*i3\.png: does not decode \(.*expected a complete PNG/);
  });

  it("rejects bad options clearly", () => {
    expect(() => make({ batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => make({ numWorkers: -1 })).toThrow(/numWorkers must be an integer >= 0/);
    expect(() => make({ indices: [99] })).toThrow(/index 99 is outside the dataset \(0..21\)/);
    expect(() => make({ shufle: true } as never)).toThrow(/unknown option shufle/);
  });
});
