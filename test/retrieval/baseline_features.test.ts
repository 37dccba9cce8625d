import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { formatCsv } from "../../src/data/csv";
import { loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { baselineFeatures } from "../../src/retrieval/baseline_features";
import { readEmbeddingsFile, writeEmbeddingsFile } from "../../src/retrieval/embedding_file";

const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-feat-"));
const oldCache = env.cacheDir;
afterAll(() => {
  env.cacheDir = oldCache;
  rmSync(dir, { recursive: true, force: true });
});

describe("baseline features", () => {
  it("pixels, chars and tf-idf from a real (generated) dataset", async () => {
    env.cacheDir = path.join(dir, "cache");
    mkdirSync(path.join(dir, "train_images"));
    const colours = ["#ff0000", "#ee1111", "#0000ff", "#1111ee"];
    for (let i = 0; i < 4; i++) {
      // a coloured square on white: 0/1 similar, 2/3 similar
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="white"/><rect x="${i < 2 ? 4 : 16}" y="4" width="12" height="24" fill="${colours[i]}"/></svg>`;
      await sharp(Buffer.from(svg)).png().toFile(path.join(dir, "train_images", `${i}.png`));
    }
    const titles = ["red apple", "apple red fresh", "blue car", "car blue toy"];
    writeFileSync(path.join(dir, "train.csv"), formatCsv(["posting_id", "image", "image_phash", "title", "label_group"], titles.map((t, i) => [`p${i}`, `${i}.png`, `h${i >> 1}`, t, `g${i >> 1}`])));
    const ds = await loadDataset(dir);
    const f = await baselineFeatures(ds, { imageSize: 8, charDim: 64 });
    expect(f.pixels.dim).toBe(8 * 8 * 3);
    const cos = (a: Float32Array, d: number, i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += a[i * d + c]! * a[j * d + c]!;
      return s;
    };
    expect(cos(f.pixels.data, f.pixels.dim, 0, 0)).toBeCloseTo(1, 5);
    expect(cos(f.pixels.data, f.pixels.dim, 0, 1)).toBeGreaterThan(cos(f.pixels.data, f.pixels.dim, 0, 2));
    expect(cos(f.chars.data, f.chars.dim, 2, 3)).toBeGreaterThan(cos(f.chars.data, f.chars.dim, 1, 3));
    expect(f.tfidf.indptr.length).toBe(5);
    expect(f.phash).toEqual(["h0", "h0", "h1", "h1"]);
  });

  it("embedding files reject wrong sidecars and sizes", () => {
    const file = path.join(dir, "e.f32");
    writeEmbeddingsFile(file, new Float32Array(6), 3);
    expect(readEmbeddingsFile(file).rows).toBe(2);
    writeFileSync(path.join(dir, "e.json"), JSON.stringify({ format: "matchlab-embeddings-file/1", dim: 3, rows: 2, extra: 1 }));
    expect(() => readEmbeddingsFile(file)).toThrow(/unknown key\(s\) extra/);
    writeFileSync(path.join(dir, "e.json"), JSON.stringify({ format: "matchlab-embeddings-file/1", dim: 4, rows: 2 }));
    expect(() => readEmbeddingsFile(file)).toThrow(/not a whole number of float32 rows of dim 4/);
    rmSync(path.join(dir, "e.json"));
    expect(() => readEmbeddingsFile(file)).toThrow(/no dim given/);
    expect(readEmbeddingsFile(file, { dim: 2 }).rows).toBe(3);
  });
});
