// The embedding cache keys rows on content (image bytes, title text) within the encoder's folder:
// two datasets that reuse posting ids with other images and titles never get each other's vectors.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/dataset";
import { contentKey, disposeEncoders, EMBEDDING_CACHE_FORMAT, embedDataset, embeddingCacheDir, embedItems, openEmbeddingCache } from "../../src/embeddings/index";
import { runCli } from "../cli/run_cli";
import { writeTinyBert, writeTinyVit } from "./tiny_models";

let root: string;
let models: string;

/** A dataset folder with rows [posting_id, image file, title, group] and one coloured PNG per colour given. */
async function dataset(name: string, rows: string[][], colours: Record<string, number>): Promise<string> {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, "train_images"), { recursive: true });
  for (const [file, c] of Object.entries(colours)) {
    await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: c, g: 255 - c, b: (c * 7) % 256 } } })
      .png()
      .toFile(path.join(dir, "train_images", file));
  }
  writeFileSync(path.join(dir, "train.csv"), `posting_id,image,title,label_group\n${rows.map((r) => r.join(",")).join("\n")}\n`);
  return dir;
}

let dsA: string;
let dsB: string;
let dsC: string;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "ml-content-cache-"));
  models = path.join(root, "models");
  writeTinyBert(path.join(models, "tiny-bert"));
  writeTinyVit(path.join(models, "tiny-vit"));
  // A and B reuse the same posting ids (and file names) with other images and titles
  dsA = await dataset(
    "a",
    [
      ["p1", "x.png", "red heart", "g1"],
      ["p2", "y.png", "red heart big", "g1"],
      ["p3", "z.png", "blue star", "g2"],
      ["p4", "w.png", "blue star small", "g2"],
    ],
    { "x.png": 10, "y.png": 60, "z.png": 120, "w.png": 180 },
  );
  dsB = await dataset(
    "b",
    [
      ["p1", "x.png", "green tree", "g1"],
      ["p2", "y.png", "green tree tall", "g1"],
      ["p3", "z.png", "yellow sun", "g2"],
      ["p4", "w.png", "yellow sun hot", "g2"],
    ],
    { "x.png": 230, "y.png": 200, "z.png": 90, "w.png": 30 },
  );
  // C holds A's content under other ids and file names
  dsC = await dataset(
    "c",
    [
      ["q1", "a.png", "red heart", "g1"],
      ["q2", "b.png", "red heart big", "g1"],
      ["q3", "c.png", "blue star", "g2"],
      ["q4", "d.png", "blue star small", "g2"],
    ],
    { "a.png": 10, "b.png": 60, "c.png": 120, "d.png": 180 },
  );
});
afterAll(async () => {
  await disposeEncoders();
  rmSync(root, { recursive: true, force: true });
});

describe("embedding cache keyed on content", () => {
  it("matchlab embed: a dataset reusing ids with other content is computed, not served; the same content under other ids is served", async () => {
    const cacheDir = path.join(root, "cache-cli");
    const args = (ds: string) => ["embed", "--dataset", ds, "--encoder", "hf-text:tiny-bert,hf-image:tiny-vit", "--models", models, "--cache-dir", cacheDir, "--json"];
    const counts = async (ds: string) => {
      const r = await runCli(args(ds));
      expect(r.code, r.err).toBe(0);
      return r.out.split("\n").map((l) => {
        const j = JSON.parse(l) as { computed: number; cached: number };
        return [j.computed, j.cached];
      });
    };
    expect(await counts(dsA)).toEqual([
      [4, 0],
      [4, 0],
    ]);
    // same ids, other titles and images: nothing may come from A's rows
    expect(await counts(dsB)).toEqual([
      [4, 0],
      [4, 0],
    ]);
    // A's titles and images under other ids and file names: all served
    expect(await counts(dsC)).toEqual([
      [0, 4],
      [0, 4],
    ]);
    const manifest = JSON.parse(readFileSync(path.join(embeddingCacheDir("hf-text:tiny-bert", "mean", cacheDir), "manifest.json"), "utf8"));
    expect(manifest.format).toBe(EMBEDDING_CACHE_FORMAT);
    expect(manifest.chunks.flatMap((c: { keys: string[] }) => c.keys)).toHaveLength(8);
  });

  it("each dataset gets its own correct vectors (equal to an uncached computation); the same content shares rows", async () => {
    const cacheDir = path.join(root, "cache-lib");
    for (const model of ["hf-text:tiny-bert", "hf-image:tiny-vit"]) {
      const opts = { model, localModelPath: models, cacheDir, log: () => {} };
      const a = await embedDataset(dsA, opts);
      const b = await embedDataset(dsB, opts);
      const c = await embedDataset(dsC, opts);
      expect([a.computed, b.computed, c.computed, c.cached]).toEqual([4, 4, 0, 4]);
      const ds = await loadDataset(dsB);
      const items = ds.listings.map((l) => (model.startsWith("hf-image") ? l.imagePath : l.title));
      const fresh = await embedItems(items, { ...opts, cache: false });
      expect(fresh.computed).toBe(4);
      expect(Array.from(b.vectors)).toEqual(Array.from(fresh.vectors));
      expect(Array.from(b.vectors)).not.toEqual(Array.from(a.vectors));
      expect(Array.from(c.vectors)).toEqual(Array.from(a.vectors));
      // a served B again is B's, not A's
      const b2 = await embedDataset(dsB, opts);
      expect([b2.computed, b2.cached]).toEqual([0, 4]);
      expect(Array.from(b2.vectors)).toEqual(Array.from(fresh.vectors));
    }
  });

  it("keys: image files by bytes (not path), titles by text; an old-format cache is rebuilt, not misread", async () => {
    const a = path.join(dsA, "train_images", "x.png");
    const c = path.join(dsC, "train_images", "a.png");
    const b = path.join(dsB, "train_images", "x.png");
    expect(await contentKey(a, "image")).toBe(await contentKey(c, "image"));
    expect(await contentKey(a, "image")).not.toBe(await contentKey(b, "image"));
    expect(await contentKey("red heart", "text")).not.toBe(await contentKey("red heart ", "text"));
    await expect(contentKey(path.join(root, "nope.png"), "image")).rejects.toThrow(/image .*nope\.png: cannot read the file \(ENOENT; expected an image file/);

    // a format-1 manifest (rows keyed on posting ids) is stale: never served, replaced by the next put
    const cacheDir = path.join(root, "cache-old");
    const key = { encoder: "hf-text:tiny-bert", pooling: "mean", weightsHash: "w", preprocessing: {}, dim: 2 };
    const dir = embeddingCacheDir(key.encoder, key.pooling, cacheDir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "chunk-0.f32"), new Uint8Array(Float32Array.from([1, 2]).buffer));
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ format: "matchlab-embeddings/1", ...key, chunks: [{ file: "chunk-0.f32", rows: 1, ids: ["p1"] }] }));
    const old = await openEmbeddingCache({ cacheDir, ...key });
    expect(old.stale).toMatch(/format matchlab-embeddings\/1 ≠ matchlab-embeddings\/2/);
    expect(old.size).toBe(0);
    expect((await old.match(["p1"])).missing).toEqual([0]);
  });
});
