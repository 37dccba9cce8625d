/**
 * Training through the augmentation pipeline: `data.augment` validated like every key; batches
 * augmented in worker threads equal the main thread's; a run's weights are the same with 0 and 2
 * workers (wasm backend); validation uses the deterministic evaluation transform.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { compose, horizontalFlip, randomResizedCrop, colorJitter } from "../../src/augment/index";
import { loadDataset } from "../../src/data/dataset";
import { env } from "../../src/env";
import { Rng } from "../../src/rng";
import { augmentBatchSource } from "../../src/train/augment_source";
import { evalPipeline, overrideConfig, resolveConfig } from "../../src/train/config";
import { trainRun } from "../../src/train/run";
import { writeTinyDataset } from "./fixture";

let work = "";
const saved = { cacheDir: env.cacheDir };
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
  work = mkdtempSync(path.join(os.tmpdir(), "ml-augsrc-"));
  env.cacheDir = path.join(work, "cache");
  await writeTinyDataset(path.join(work, "ds"), { groups: 8, per: 3 });
}, 120_000);
afterAll(() => {
  env.cacheDir = saved.cacheDir;
});

describe("data.augment in the config", () => {
  const at = (augment: unknown, data: Record<string, unknown> = {}) => resolveConfig({ data: { image_size: 8, augment, ...data } });
  it("takes src/augment's names and options, in order", () => {
    const c = at([{ randomResizedCrop: { size: 8, scale: [0.5, 1] } }, { horizontalFlip: null }], { decode_size: 12 });
    expect(c.data.augment).toEqual([{ randomResizedCrop: { size: 8, scale: [0.5, 1] } }, { horizontalFlip: {} }]);
  });
  it("rejects unknown transforms, bad options and a pipeline that does not end at image_size", () => {
    expect(() => at([{ mixup: {} }])).toThrow(/unknown transform data\.augment\[0\]\.mixup \(expected one of randomResizedCrop\|centerCrop\|resize\|horizontalFlip/);
    expect(() => at([{ horizontalFlip: { prob: 0.5 } }])).toThrow(/bad options for data\.augment\[0\]\.horizontalFlip: .*unknown option prob/);
    expect(() => at([{ horizontalFlip: {}, verticalFlip: {} }])).toThrow(/data\.augment\[0\] must be one \{transform: \{options\}\} map/);
    expect(() => at([{ horizontalFlip: {} }], { decode_size: 12 })).toThrow(/data\.augment turns a 12×12 decoded image into 12×12, but data\.image_size is 8/);
    expect(() => at([], { decode_size: 6 })).toThrow(/data\.decode_size 6 is smaller than data\.image_size 8/);
  });
  it("evaluates with the deterministic part: centre crop to image_size, then normalize", () => {
    const c = at([{ randomResizedCrop: { size: 8 } }, { normalize: {} }], { decode_size: 10 });
    const steps = (evalPipeline(c)?.spec.options.transforms ?? []) as { name: string; options: Record<string, unknown> }[];
    expect(steps.map((t) => t.name)).toEqual(["centerCrop", "normalize"]);
    expect(steps[0]!.options.size).toBe(8);
    expect(evalPipeline(at([]))).toBeNull();
  });
});

describe("augmented batches", () => {
  const N = 20;
  const D = 12;
  const r = new Rng(3);
  const images = Uint8Array.from({ length: N * D * D * 3 }, () => r.int(256));
  const train = Int32Array.from({ length: 16 }, (_, i) => i + 2);
  const classOf = Int32Array.from({ length: N }, (_, i) => i % 4);
  const transform = compose([randomResizedCrop({ size: 8, scale: [0.5, 1] }), horizontalFlip(), colorJitter({ brightness: 0.2 })]);
  const batches = [Int32Array.from([0, 5, 3, 9]), Int32Array.from([15, 1, 2, 7]), Int32Array.from([4, 6, 8, 10])];

  async function pixels(numWorkers: number, epoch: number): Promise<number[][]> {
    const src = augmentBatchSource({ images, decode: D, size: 8, train, classOf, transform, seed: 7, numWorkers, prefetch: 2 });
    src.plan?.(epoch, batches);
    const out: number[][] = [];
    for (const b of batches) {
      const batch = await src.makeBatch(b, epoch);
      expect(batch.inputs[0]!.shape).toEqual([4, 8, 8, 3]);
      expect(Array.from(batch.labels.dataSync())).toEqual(Array.from(b, (p) => classOf[train[p]!]!));
      out.push(Array.from(batch.inputs[0]!.dataSync()));
      tf.dispose([...batch.inputs, batch.labels]);
    }
    await src.close();
    return out;
  }

  it("are the same on the main thread and in 1 or 2 workers, and differ between epochs", async () => {
    const before = tf.memory().numTensors;
    const main = await pixels(0, 1);
    expect(await pixels(2, 1)).toEqual(main);
    expect(await pixels(1, 1)).toEqual(main);
    expect(await pixels(0, 2)).not.toEqual(main);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});

describe("a training run with augmentation", () => {
  it("ends with the same weights with 0 and 2 workers (wasm)", async () => {
    const ds = await loadDataset(path.join(work, "ds"));
    const cfg = resolveConfig({
      name: "aug",
      backend: "wasm",
      seed: 2,
      data: { dataset: path.join(work, "ds"), folds: 2, image_size: 8, decode_size: 10, augment: [{ randomResizedCrop: { size: 8, scale: [0.6, 1] } }, { horizontalFlip: { p: 0.5 } }] },
      model: { image: { widths: [4] }, text: { dim: 32 }, embedding_dim: 8 },
      optim: { batch_size: 4, epochs: 2 },
      train: { log_period: 0 },
      match: { knn: 5 },
    });
    const run = (workers: number) => trainRun(overrideConfig(cfg, "data.num_workers", { value: workers }), { runsDir: path.join(work, "runs"), dataset: ds, skipBackend: true, progressBars: false, log: () => {} });
    const a = await run(0);
    const b = await run(2);
    expect(b.weights_sha256).toBe(a.weights_sha256);
    expect(a.steps).toBe(b.steps);
  }, 300_000);
});
