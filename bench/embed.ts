/**
 * `npm run bench -- embed [--dataset DIR] [--items N] [--steps N]`: one JSON line per measurement.
 *  1. items/s of each encoder on each tfjs backend (wasm, cpu) and of transformers.js on tiny generated models;
 *  2. an MLP head trained on cached features against the same head over the live (frozen) encoder;
 *  3. the MLP head 1280→512→3129 (batch 64, Adam) on tfjs against PyTorch (/usr/bin/python3 bench/embed_torch.py);
 *  4. kNN matching F1 on frozen features (image, text, both) against the self-only baseline.
 * Parts needing a dataset use `--dataset`, else <dataDir>/emoji-match-sample, else env.dataset, and are
 * skipped with a note when none exists. The cache is a fresh temporary folder (part 2 measures filling it).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/index";
import { type ImageData32, loadDataset, readImage } from "../src/data/index";
import {
  disposeEncoders,
  type FeatureTable,
  featureHeadStep,
  featureMlp,
  loadEncoder,
  loadFeatureTable,
  normalizeEmbeddingRows,
} from "../src/embeddings/index";
import { env } from "../src/env";
import { matchScores, precisionAt1 } from "../src/metrics/index";
import { bestThreshold, knnSearch } from "../src/retrieval/index";
import { Rng } from "../src/rng";
import { writeTinyBert, writeTinyVit } from "../test/embeddings/tiny_models";

env.progress = false;
const argv = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}
const ITEMS = Number(flag("items", "64"));
const STEPS = Number(flag("steps", "20"));
const datasetDir = [flag("dataset", ""), path.join(env.dataDir, "emoji-match-sample"), env.dataset].find((d) => d && existsSync(path.join(d, "train.csv")));
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "matchlab-bench-embed-"));

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: "embed", ...o }));
}

function synthImage(size: number, seed: number): ImageData32 {
  const r = new Rng(seed);
  return {
    data: Float32Array.from({ length: size * size * 3 }, () => r.next()),
    height: size,
    width: size,
    channels: 3,
  };
}

async function main(): Promise<void> {
  const ds = datasetDir ? await loadDataset(datasetDir, { checkImages: "exists", warn: false }) : null;
  if (!ds)
    emit({
      case: "dataset",
      skipped: "no dataset found (build one with `matchlab data --sample`); throughput uses synthetic items, parts 2 and 4 are skipped",
    });
  const rows = ds ? ds.listings.slice(0, ITEMS) : [];
  const titles = ds ? rows.map((l) => l.title) : Array.from({ length: ITEMS }, (_, i) => `red heart with a smiling face number ${i}`);
  const imagesAt = async (size: number) =>
    ds ? Promise.all(rows.map((l) => readImage(l.imagePath, { size }))) : Array.from({ length: ITEMS }, (_, i) => synthImage(size, i));
  const img96 = await imagesAt(96);
  const img224 = await imagesAt(224);

  // 1. items/s per encoder per backend (decode excluded: images are decoded beforehand)
  for (const backend of ["wasm", "cpu"] as const) {
    await disposeEncoders();
    const info = await initBackend({ backend, log: () => {} });
    const cases: Array<[string, Array<string | ImageData32>, number]> = [
      ["mobilenet-v2@96", img96, ITEMS],
      ["mobilenet-v2", img224, backend === "cpu" ? Math.min(ITEMS, 8) : ITEMS],
      ["use-lite", titles, ITEMS],
    ];
    for (const [id, items, n] of cases) {
      const enc = await loadEncoder(id);
      await enc.encodeBatch(items.slice(0, 2), enc.defaultPooling);
      const t0 = performance.now();
      for (let s = 0; s < n; s += 32) await enc.encodeBatch(items.slice(s, Math.min(n, s + 32)), enc.defaultPooling);
      const ms = performance.now() - t0;
      emit({
        case: `encode:${id}`,
        impl: `tfjs-${info.backend}`,
        threads: info.threads,
        items: n,
        ms: +ms.toFixed(1),
        itemsPerSec: +((1000 * n) / ms).toFixed(2),
      });
    }
  }
  await disposeEncoders();
  const models = path.join(cacheDir, "models");
  writeTinyBert(path.join(models, "tiny-bert"), { hidden: 32 });
  writeTinyVit(path.join(models, "tiny-vit"), {
    size: 32,
    patch: 8,
    hidden: 32,
  });
  for (const [id, items] of [
    ["hf-text:tiny-bert", titles],
    ["hf-image:tiny-vit", img96],
  ] as Array<[string, Array<string | ImageData32>]>) {
    const enc = await loadEncoder(id, { localModelPath: models });
    const t0 = performance.now();
    for (let s = 0; s < ITEMS; s += 32) await enc.encodeBatch(items.slice(s, s + 32), enc.defaultPooling);
    const ms = performance.now() - t0;
    emit({
      case: `encode:${id} (tiny random model)`,
      impl: "transformers.js/onnxruntime-node",
      items: ITEMS,
      ms: +ms.toFixed(1),
      itemsPerSec: +((1000 * ITEMS) / ms).toFixed(2),
    });
  }
  await disposeEncoders();
  const info = await initBackend({ log: () => {} });

  // 2. head on cached features vs over the live encoder (mobilenet-v2@96, batch 64)
  let table: FeatureTable | null = null;
  if (ds) {
    const t0 = performance.now();
    table = await loadFeatureTable(ds, {
      encoders: ["mobilenet-v2@96", "use-lite"],
      cacheDir,
    });
    emit({
      case: "cache-fill:mobilenet-v2@96+use-lite",
      impl: `tfjs-${info.backend}`,
      items: table.n,
      ms: +(performance.now() - t0).toFixed(0),
    });
    const t1 = performance.now();
    const again = await loadFeatureTable(ds, {
      encoders: ["mobilenet-v2@96", "use-lite"],
      cacheDir,
    });
    emit({
      case: "cache-reload:mobilenet-v2@96+use-lite",
      impl: "disk",
      items: again.n,
      ms: +(performance.now() - t1).toFixed(1),
    });
    const classes = table.classes.length;
    const B = 64;
    const head = featureMlp({ inputDim: 1280, hidden: 512, classes, seed: 0 });
    const opt = tf.train.adam(1e-3);
    const vec = table.blocks[0]!.vectors;
    const r = new Rng(1);
    const batchRows = () => Int32Array.from({ length: B }, () => r.int(table!.n));
    const stepCached = () => {
      const idx = batchRows();
      const xb = new Float32Array(B * 1280);
      idx.forEach((p, i) => {
        xb.set(vec.subarray(p * 1280, (p + 1) * 1280), i * 1280);
      });
      const x = tf.tensor2d(xb, [B, 1280]);
      const y = tf.tensor1d(
        Int32Array.from(idx, (p) => table!.labels[p]!),
        "int32",
      );
      featureHeadStep(head, opt, x, y, classes);
      tf.dispose([x, y]);
    };
    const enc = await loadEncoder("mobilenet-v2@96");
    const imgs = await Promise.all(ds.listings.map((l) => readImage(l.imagePath, { size: 96 })));
    const stepLive = async () => {
      const idx = batchRows();
      const feats = await enc.encodeBatch(
        Array.from(idx, (p) => imgs[p]!),
        "mean",
      );
      const x = tf.tensor2d(feats, [B, 1280]);
      const y = tf.tensor1d(
        Int32Array.from(idx, (p) => table!.labels[p]!),
        "int32",
      );
      featureHeadStep(head, opt, x, y, classes);
      tf.dispose([x, y]);
    };
    stepCached();
    await stepLive();
    let t = performance.now();
    for (let s = 0; s < STEPS; s++) stepCached();
    const cachedMs = (performance.now() - t) / STEPS;
    const liveSteps = Math.max(3, Math.floor(STEPS / 4));
    t = performance.now();
    for (let s = 0; s < liveSteps; s++) await stepLive();
    const liveMs = (performance.now() - t) / liveSteps;
    emit({
      case: `head-step:mlp-1280-512-${classes}-b64`,
      impl: `tfjs-${info.backend} cached-features`,
      ms: +cachedMs.toFixed(2),
      steps: STEPS,
    });
    emit({
      case: `head-step:mlp-1280-512-${classes}-b64`,
      impl: `tfjs-${info.backend} live mobilenet-v2@96`,
      ms: +liveMs.toFixed(2),
      steps: liveSteps,
      speedupFromCache: +(liveMs / cachedMs).toFixed(1),
    });
    head.dispose();
    opt.dispose();
    await disposeEncoders();
  }

  // 3. the MLP head 1280→512→3129, batch 64, Adam: tfjs backends vs PyTorch
  const [D, H, C, B] = [1280, 512, 3129, 64];
  const tfMs: Record<string, number> = {};
  for (const backend of ["wasm", "cpu"] as const) {
    const bi = await initBackend({ backend, log: () => {} });
    const head = featureMlp({ inputDim: D, hidden: H, classes: C, seed: 0 });
    const opt = tf.train.adam(1e-3);
    const r = new Rng(2);
    const x = tf.tensor2d(
      Float32Array.from({ length: B * D }, () => r.normal()),
      [B, D],
    );
    const y = tf.tensor1d(
      Int32Array.from({ length: B }, () => r.int(C)),
      "int32",
    );
    for (let s = 0; s < 3; s++) featureHeadStep(head, opt, x, y, C);
    const steps = backend === "cpu" ? Math.max(3, Math.floor(STEPS / 4)) : STEPS;
    const t = performance.now();
    for (let s = 0; s < steps; s++) featureHeadStep(head, opt, x, y, C);
    tfMs[backend] = (performance.now() - t) / steps;
    emit({
      bench: "embed-head",
      case: `mlp-${D}-${H}-${C}-b${B}`,
      impl: `tfjs-${bi.backend}`,
      threads: bi.threads,
      ms: +tfMs[backend]!.toFixed(2),
      steps,
    });
    tf.dispose([x, y]);
    head.dispose();
    opt.dispose();
  }
  const py = spawnSync("/usr/bin/python3", [path.join(env.root, "bench", "embed_torch.py"), String(D), String(H), String(C), String(B), String(STEPS), "0"], {
    encoding: "utf8",
  });
  if (py.error || py.status !== 0) {
    emit({
      bench: "embed-head",
      case: `mlp-${D}-${H}-${C}-b${B}`,
      impl: "pytorch",
      skipped: `/usr/bin/python3 failed: ${py.error?.message ?? py.stderr.trim().split("\n").at(-1)}`,
    });
  } else {
    const line = py.stdout.trim().split("\n").at(-1)!;
    console.log(line);
    const p = JSON.parse(line) as { ms?: number };
    if (p.ms)
      emit({
        bench: "embed-head",
        case: `mlp-${D}-${H}-${C}-b${B}`,
        impl: "ratio tfjs-wasm/pytorch",
        ratio: +(tfMs.wasm! / p.ms).toFixed(2),
        goal: "<= 3",
      });
  }
  await initBackend({ log: () => {} });

  // 4. kNN matching F1 on frozen features (best distance threshold, maxDistance, over the dataset; self-only is the baseline)
  if (ds && table) {
    const labels = table.labels;
    const norm = (v: Float32Array, d: number) => normalizeEmbeddingRows(Float32Array.from(v), d);
    const img = norm(table.blocks[0]!.vectors, 1280);
    const txt = norm(table.blocks[1]!.vectors, 512);
    const both = new Float32Array(table.n * (1280 + 512));
    for (let i = 0; i < table.n; i++) {
      both.set(img.subarray(i * 1280, (i + 1) * 1280), i * 1792);
      both.set(txt.subarray(i * 512, (i + 1) * 512), i * 1792 + 1280);
    }
    const self = matchScores(
      Array.from({ length: table.n }, (_, i) => Int32Array.of(i)),
      labels,
    );
    const rr = new Rng(0);
    const randomPairs = Array.from({ length: table.n }, (_, i) => {
      const j = rr.int(table!.n - 1);
      return Int32Array.of(i, j >= i ? j + 1 : j);
    });
    emit({ case: "knn-f1", impl: "self-only floor", n: table.n, groups: table.classes.length, f1: +self.f1.toFixed(4) });
    emit({ case: "knn-f1", impl: "random-pair chance", n: table.n, f1: +matchScores(randomPairs, labels).f1.toFixed(4) });
    for (const [name, x, d] of [
      ["image mobilenet-v2@96", img, 1280],
      ["text use-lite", txt, 512],
      ["both (concat)", both, 1792],
    ] as Array<[string, Float32Array, number]>) {
      const nb = await knnSearch(x, d, { k: 50, label: null });
      const best = bestThreshold(nb, labels);
      const noMin2 = bestThreshold(nb, labels, { min2: false });
      emit({
        case: "knn-f1",
        impl: name,
        n: table.n,
        f1: +best.f1.toFixed(4),
        maxDistance: +best.maxDistance.toFixed(3),
        f1NoMin2: +noMin2.f1.toFixed(4),
        precisionAt1: +precisionAt1(nb, labels).toFixed(4),
      });
    }
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(cacheDir, { recursive: true, force: true }));
