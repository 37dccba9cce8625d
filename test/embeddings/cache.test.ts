import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disposeEncoders, type EmbeddingCacheKey, embedItems, hashWeightFiles, openEmbeddingCache } from "../../src/embeddings/index";
import { writeTinyBert } from "./tiny_models";

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "ml-cache-"));
});
afterAll(async () => {
  await disposeEncoders();
  rmSync(root, { recursive: true, force: true });
});

const key = (over: Partial<EmbeddingCacheKey> = {}): EmbeddingCacheKey => ({
  encoder: "hf-text:x",
  pooling: "mean",
  weightsHash: "aaa",
  preprocessing: { maxLength: 8 },
  dim: 3,
  ...over,
});

describe("EmbeddingCache (match / put)", () => {
  it("stores, reloads and serves rows by key; later puts replace", async () => {
    const cacheDir = path.join(root, "c1");
    const c = await openEmbeddingCache({ cacheDir, ...key() });
    expect(c.stale).toBeNull();
    await c.put(["p1", "p2"], Float32Array.from([1, 2, 3, 4, 5, 6]));
    await c.put(["p3", "p1"], Float32Array.from([7, 8, 9, 10, 11, 12]));
    const again = await openEmbeddingCache({
      cacheDir,
      ...key({ preprocessing: { maxLength: 8 } }),
    });
    expect(again.size).toBe(3);
    const m = await again.match(["p1", "p9", "p3"]);
    expect(Array.from(m.vectors)).toEqual([10, 11, 12, 0, 0, 0, 7, 8, 9]);
    expect(Array.from(m.hit)).toEqual([1, 0, 1]);
    expect(m.missing).toEqual([1]);
    const manifest = JSON.parse(readFileSync(path.join(again.dir, "manifest.json"), "utf8"));
    expect(manifest.chunks).toHaveLength(2);
    expect(readdirSync(again.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("compacts many chunks into one without changing what is served", async () => {
    const cacheDir = path.join(root, "c2");
    const c = await openEmbeddingCache({ cacheDir, compactAfter: 3, ...key() });
    for (let i = 0; i < 5; i++) await c.put([`p${i}`], Float32Array.from([i, i, i]));
    const again = await openEmbeddingCache({ cacheDir, ...key() });
    expect(Array.from((await again.match(["p0", "p4"])).vectors)).toEqual([0, 0, 0, 4, 4, 4]);
    expect(readdirSync(again.dir).filter((f) => f.endsWith(".f32")).length).toBeLessThanOrEqual(3);
  });

  it("never serves a stale cache (weights, preprocessing, pooling) and says why; a put replaces it", async () => {
    const cacheDir = path.join(root, "c3");
    const c = await openEmbeddingCache({ cacheDir, ...key() });
    await c.put(["p1"], Float32Array.from([1, 2, 3]));
    const oldChunk = readdirSync(c.dir).find((f) => f.endsWith(".f32"))!;
    const w = await openEmbeddingCache({
      cacheDir,
      ...key({ weightsHash: "bbb" }),
    });
    expect(w.stale).toMatch(/weights hash aaa ≠ bbb/);
    expect((await w.match(["p1"])).missing).toEqual([0]);
    const p = await openEmbeddingCache({
      cacheDir,
      ...key({ preprocessing: { maxLength: 16 } }),
    });
    expect(p.stale).toMatch(/preprocessing/);
    expect((await p.match(["p1"])).missing).toEqual([0]);
    await w.put(["p2"], Float32Array.from([4, 5, 6]));
    expect(existsSync(path.join(c.dir, oldChunk))).toBe(false);
    const fresh = await openEmbeddingCache({
      cacheDir,
      ...key({ weightsHash: "bbb" }),
    });
    expect(fresh.stale).toBeNull();
    expect(fresh.size).toBe(1);
    // a truncated chunk is stale too, not served
    const chunk = readdirSync(fresh.dir).find((f) => f.endsWith(".f32"))!;
    writeFileSync(path.join(fresh.dir, chunk), new Uint8Array(4));
    const broken = await openEmbeddingCache({
      cacheDir,
      ...key({ weightsHash: "bbb" }),
    });
    expect(broken.stale).toMatch(/wrong size/);
  });

  it("rejects rows of the wrong width and duplicate keys", async () => {
    const c = await openEmbeddingCache({
      cacheDir: path.join(root, "c4"),
      ...key(),
    });
    await expect(c.put(["a"], new Float32Array(4))).rejects.toThrow(/4 values for 1 keys × dim 3/);
    await expect(c.put(["a", "a"], new Float32Array(6))).rejects.toThrow(/duplicate/);
  });

  it("hashes weight files by content", async () => {
    const f = path.join(root, "w.bin");
    writeFileSync(f, "abc");
    const h1 = await hashWeightFiles([f]);
    writeFileSync(f, "abd");
    expect(await hashWeightFiles([f])).not.toBe(h1);
  });
});

describe("embed with the cache: incremental, and stale on new weights", () => {
  it("computes only new rows, then recomputes everything when the model files change", async () => {
    const models = path.join(root, "models");
    writeTinyBert(path.join(models, "tb"), { seed: 5 });
    const opts = {
      model: "hf-text:tb",
      localModelPath: models,
      cacheDir: path.join(root, "c5"),
      log: () => {},
    };
    const a = await embedItems(["red", "blue"], { ...opts, ids: ["1", "2"] });
    expect([a.computed, a.cached]).toEqual([2, 0]);
    const b = await embedItems(["red", "blue", "cat"], {
      ...opts,
      ids: ["1", "2", "3"],
    });
    expect([b.computed, b.cached, b.stale]).toEqual([1, 2, null]);
    expect(Array.from(b.vectors.subarray(0, 2 * a.dim))).toEqual(Array.from(a.vectors));
    await disposeEncoders();
    writeTinyBert(path.join(models, "tb"), { seed: 6 });
    const lines: string[] = [];
    const c = await embedItems(["red", "blue", "cat"], {
      ...opts,
      ids: ["1", "2", "3"],
      log: (l) => lines.push(l),
    });
    expect([c.computed, c.cached]).toEqual([3, 0]);
    expect(c.stale).toMatch(/weights hash/);
    expect(lines.join("\n")).toMatch(/stale and will be recomputed/);
    expect(Array.from(c.vectors.subarray(0, a.dim))).not.toEqual(Array.from(a.vectors.subarray(0, a.dim)));
    await expect(embedItems(["x"], { ...opts, ids: ["1", "2"] })).rejects.toThrow(/2 ids for 1 items/);
  });
});
