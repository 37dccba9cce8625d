/**
 * `npm run bench -- embed [--dataset DIR] [--items N] [--steps N]`: one JSON line per measurement.
 *  1. items/s of each encoder on each tfjs backend (wasm, cpu) and of transformers.js on tiny generated models;
 *  2. a training step of the shared model on cached features (`model.input: features`: features 1280 →
 *     embedding 512 (dense + BatchNorm) → softmax head, AdamW, batch 64, built by buildRunModel) against the
 *     same step over the live (frozen) encoder;
 *  3. that step with 1280 → 512 → 3129 on tfjs against PyTorch (/usr/bin/python3 bench/embed_torch.py, the same layers);
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
import { disposeEncoders, type FeatureTable, loadEncoder, loadFeatureTable, normalizeEmbeddingRows } from "../src/embeddings/index";
import { env } from "../src/env";
import { matchScores, precisionAt1 } from "../src/metrics/index";
import { bestThreshold, knnSearch } from "../src/retrieval/index";
import { Rng } from "../src/rng";
import { resolveConfig } from "../src/train/config";
import { type Batch, Learner } from "../src/train/learner";
import { buildRunModel, type PreparedData, type RunModel } from "../src/train/model";
import { AdamW } from "../src/train/optimizer";
import type { TaskSplit } from "../src/train/tasks/index";
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

/** The embedding width of the benchmarked model (the old MLP's hidden width). */
const EMB = 512;

/**
 * The shared model of a `model.input: features` run over one cached image block of `table`:
 * features → embedding (dense + BatchNorm, `EMB` wide) → softmax head over the table's classes,
 * and one AdamW step of it on a batch (`tf.variableGrads` over `model.forward`, as the Learner does).
 */
function featureModelStep(table: FeatureTable): { model: RunModel; step(batch: Batch): number; dispose(): void } {
  const cfg = resolveConfig(
    {
      name: "bench-embed",
      model: { input: "features", encoders: [table.blocks[0]!.encoder], fusion: { kind: "none" }, embedding_dim: EMB, dropout: 0 },
      heads: { fused: null, image: { kind: "softmax" } },
      loss: { kind: "ce" },
      optim: { optimizer: "adamw", lr: 1e-3, weight_decay: 1e-4, batch_size: 64 },
      eval: { branch: "image" },
    },
    "bench/embed.ts",
  );
  const data: PreparedData = { n: table.n, ids: table.ids, imageSize: 96, images: new Uint8Array(0), text: new Float32Array(0), textDim: 0, features: table, featureModalities: ["image"] };
  const split: TaskSplit = {
    train: Int32Array.from({ length: table.n }, (_, i) => i),
    valid: new Int32Array(0),
    labels: table.labels,
    classOf: table.labels,
    numClasses: table.classes.length,
    classNames: table.classes,
  };
  const model = buildRunModel(cfg, data, split);
  const optimizer = new AdamW(model.params, { kind: cfg.optim.optimizer, lr: cfg.optim.lr, weightDecay: cfg.optim.weight_decay });
  const learner = new Learner({ params: model.params, stateVariables: model.stateVariables, forward: model.forward, data: model.source, optimizer, batchSize: cfg.optim.batch_size });
  const vars = model.params.map((p) => p.variable);
  return {
    model,
    step(batch) {
      const { value, grads } = tf.variableGrads(() => model.forward(batch, learner).loss, vars);
      const loss = value.dataSync()[0]!;
      optimizer.step(
        vars.map((v) => {
          const g = grads[v.name];
          if (!g) throw new Error(`bench: no gradient for ${v.name}`);
          return g;
        }),
      );
      tf.dispose([value, ...Object.values(grads)]);
      learner.microStep++;
      return loss;
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
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
    const dim = table.blocks[0]!.dim;
    const trainer = featureModelStep({ ...table, blocks: [table.blocks[0]!] });
    const r = new Rng(1);
    const batchRows = () => Int32Array.from({ length: B }, () => r.int(table!.n));
    const stepCached = () => {
      const batch = trainer.model.source.makeBatch(batchRows(), 0) as Batch;
      trainer.step(batch);
      tf.dispose([...batch.inputs, batch.labels]);
    };
    const enc = await loadEncoder("mobilenet-v2@96");
    const imgs = await Promise.all(ds.listings.map((l) => readImage(l.imagePath, { size: 96 })));
    const stepLive = async () => {
      const idx = batchRows();
      const feats = await enc.encodeBatch(
        Array.from(idx, (p) => imgs[p]!),
        "mean",
      );
      const batch: Batch = {
        inputs: [tf.tensor2d(feats, [B, dim])],
        labels: tf.tensor1d(
          Int32Array.from(idx, (p) => table!.labels[p]!),
          "int32",
        ),
        indices: idx,
      };
      trainer.step(batch);
      tf.dispose([...batch.inputs, batch.labels]);
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
    const stepCase = `head-step:features-${dim}-${EMB}-${classes}-b${B}`;
    emit({
      case: stepCase,
      impl: `tfjs-${info.backend} cached-features`,
      ms: +cachedMs.toFixed(2),
      steps: STEPS,
    });
    emit({
      case: stepCase,
      impl: `tfjs-${info.backend} live mobilenet-v2@96`,
      ms: +liveMs.toFixed(2),
      steps: liveSteps,
      speedupFromCache: +(liveMs / cachedMs).toFixed(1),
    });
    trainer.dispose();
    await disposeEncoders();
  }

  // 3. the same step with 1280 → 512 → 3129, batch 64, AdamW: tfjs backends vs PyTorch (one fixed batch)
  const [D, H, C, B] = [1280, EMB, 3129, 64];
  const headCase = `features-${D}-${H}-${C}-b${B}`;
  const tfMs: Record<string, number> = {};
  for (const backend of ["wasm", "cpu"] as const) {
    const bi = await initBackend({ backend, log: () => {} });
    const r = new Rng(2);
    const synth: FeatureTable = {
      n: B,
      ids: Array.from({ length: B }, (_, i) => `s${i}`),
      labels: Int32Array.from({ length: B }, () => r.int(C)),
      classes: Array.from({ length: C }, (_, c) => `c${c}`),
      blocks: [{ encoder: "mobilenet-v2@96", vectors: Float32Array.from({ length: B * D }, () => r.normal()), dim: D }],
    };
    const trainer = featureModelStep(synth);
    const batch = trainer.model.source.makeBatch(Int32Array.from({ length: B }, (_, i) => i), 0) as Batch;
    for (let s = 0; s < 3; s++) trainer.step(batch);
    const steps = backend === "cpu" ? Math.max(3, Math.floor(STEPS / 4)) : STEPS;
    const t = performance.now();
    for (let s = 0; s < steps; s++) trainer.step(batch);
    tfMs[backend] = (performance.now() - t) / steps;
    emit({
      bench: "embed-head",
      case: headCase,
      impl: `tfjs-${bi.backend}`,
      threads: bi.threads,
      ms: +tfMs[backend]!.toFixed(2),
      steps,
    });
    tf.dispose([...batch.inputs, batch.labels]);
    trainer.dispose();
  }
  const py = spawnSync("/usr/bin/python3", [path.join(env.root, "bench", "embed_torch.py"), String(D), String(H), String(C), String(B), String(STEPS), "0"], {
    encoding: "utf8",
  });
  if (py.error || py.status !== 0) {
    emit({
      bench: "embed-head",
      case: headCase,
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
        case: headCase,
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
