// `npm run bench -- loader [--dataset DIR] [--images N] [--batch B] [--size S] [--step-ms MS] [--epochs E]
//   [--cases iterate,train-step,train-step-aug] [--config FILE] [--train-size S] [--train-steps N] [--train-warmup N]`
// Images/s of the DataLoader for numWorkers 0, 1 and 2, decoding with sharp and augmenting
// (random resized crop, flip, colour jitter, normalisation). Two cases per worker count:
// "iterate" (the loop does nothing with a batch) and "train-step" (the loop spends --step-ms of
// main-thread CPU per batch, like a training step, which workers can overlap with).
// A third case, "train-step-aug", trains for real on the wasm backend: --config (default
// configs/quick.yaml, on its dataset, data/emoji-match-sample) with data.fold all (no validation),
// data.image_size --train-size (default 64), data.decode_size round(1.25 × that) and data.augment
// [randomResizedCrop to the image size, horizontalFlip, colorJitter]; for data.num_workers 0, 1 and 2
// (impl workers-N), and once with data.augment [] decoded at the image size (impl no-aug), it builds the
// run with prepareTask + makeLearner and times --train-steps optimiser steps (default 20) after
// --train-warmup untimed steps (default 2): "ms" per step and "samples_per_s" = steps × batch / s
// (batch = --batch). Only that case: `npm run bench -- loader --cases train-step-aug`.
import { existsSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { colorJitter, compose, horizontalFlip, normalizeImage, randomResizedCrop } from "../src/augment/index";
import { initBackend } from "../src/backend/index";
import { dataLoader, loadDataset } from "../src/data/index";
import { env } from "../src/env";
import { loadConfig, overrideConfig, type RunConfig } from "../src/train/config";
import type { PlannedBatchSource } from "../src/train/augment_source";
import { makeLearner, prepareTask } from "../src/train/run";

const { values } = parseArgs({
  options: {
    dataset: { type: "string" },
    images: { type: "string", default: "512" },
    batch: { type: "string", default: "32" },
    size: { type: "string", default: "224" },
    "step-ms": { type: "string", default: "60" },
    epochs: { type: "string", default: "2" },
    cases: { type: "string", default: "iterate,train-step,train-step-aug" },
    config: { type: "string", default: "configs/quick.yaml" },
    "train-size": { type: "string", default: "64" },
    "train-steps": { type: "string", default: "20" },
    "train-warmup": { type: "string", default: "2" },
  },
});
const CASES = ["iterate", "train-step", "train-step-aug"] as const;
type CaseName = (typeof CASES)[number];
const cases = values.cases.split(",").map((c) => c.trim()).filter(Boolean);
for (const c of cases) if (!(CASES as readonly string[]).includes(c)) throw new Error(`--cases: unknown case ${c} (expected ${CASES.join("|")})`);
const runs = (c: CaseName) => cases.includes(c);
const dir = values.dataset ?? (existsSync(`${env.dataDir}/emoji-match/train.csv`) ? `${env.dataDir}/emoji-match` : env.dataset);
const nImages = Number(values.images);
const batchSize = Number(values.batch);
const size = Number(values.size);
const stepMs = Number(values["step-ms"]);
const epochs = Number(values.epochs);

const machine = `${os.cpus().length}-core ${os.arch()}, node ${process.version}`;
const load1 = () => Math.round(os.loadavg()[0]! * 10) / 10;
const loaderModes = (["iterate", "train-step"] as const).filter(runs);
const ds = loaderModes.length ? await loadDataset(dir, { checkImages: "exists", onBadRow: "skip", warn: false }) : null;
const indices = Array.from({ length: Math.min(nImages, ds?.listings.length ?? 0) }, (_, i) => i);
const transform = compose([randomResizedCrop({ size, scale: [0.5, 1] }), horizontalFlip(), colorJitter(), normalizeImage()]);

function busy(ms: number) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

for (const mode of loaderModes) {
  for (const numWorkers of [0, 1, 2]) {
    const loader = dataLoader(ds!, { batchSize, shuffle: true, seed: 0, numWorkers, prefetch: 2, imageSize: size, transform, indices });
    // warm-up: one batch (starts workers, loads sharp)
    for await (const _ of loader) break;
    loader.seek(0, 0);
    const t0 = performance.now();
    let n = 0;
    for (let e = 0; e < epochs; e++) {
      for await (const b of loader) {
        n += b.indices.length;
        if (mode === "train-step") busy(stepMs);
      }
    }
    const ms = performance.now() - t0;
    await loader.close();
    console.log(
      JSON.stringify({
        bench: "loader",
        case: mode,
        impl: `numWorkers=${numWorkers}`,
        numWorkers,
        images: n,
        batchSize,
        size,
        stepMs: mode === "train-step" ? stepMs : 0,
        ms: Math.round(ms * 10) / 10,
        imagesPerSec: Math.round((n / ms) * 1000 * 10) / 10,
        machine,
        load1: load1(),
      }),
    );
  }
}

/** The config of one train-step-aug arm: augmented with `numWorkers` workers, or (null) without augmentation. */
function trainConfig(base: RunConfig, numWorkers: number | null, size: number, steps: number): RunConfig {
  const set = (c: RunConfig, key: string, value: unknown) => overrideConfig(c, key, { value }, "bench loader");
  // augment [] first, so each step of the way is a valid config (image_size and decode_size, then the list that ends at image_size)
  let c = set(base, "data.augment", []);
  c = set(c, "backend", "wasm");
  c = set(c, "data.fold", "all");
  c = set(c, "data.image_size", size);
  c = set(c, "data.decode_size", numWorkers === null ? 0 : Math.round(size * 1.25));
  c = set(c, "data.num_workers", numWorkers ?? 0);
  if (numWorkers !== null) c = set(c, "data.augment", [{ randomResizedCrop: { size, scale: [0.6, 1] } }, { horizontalFlip: { p: 0.5 } }, { colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2 } }]);
  c = set(c, "optim.batch_size", batchSize);
  c = set(c, "train.max_iters", steps);
  c = set(c, "train.log_period", 0);
  return c;
}

if (runs("train-step-aug")) {
  const info = await initBackend({ backend: "wasm" });
  const size = Number(values["train-size"]);
  const steps = Number(values["train-steps"]);
  const warmup = Number(values["train-warmup"]);
  const base = loadConfig(values.config);
  for (const numWorkers of [0, 1, 2, null]) {
    const cfg = trainConfig(base, numWorkers, size, warmup + steps);
    const task = await prepareTask(cfg, { progressBars: false });
    let t0 = 0;
    let c0 = process.cpuUsage();
    let ms = 0;
    let cpuMs = 0;
    const learner = makeLearner(task, cfg, {
      progressBars: false,
      log: () => {},
      callbacks: [
        {
          order: 100,
          afterStep: (l) => {
            if (l.step === warmup) {
              t0 = performance.now();
              c0 = process.cpuUsage();
            } else if (l.step === warmup + steps) {
              ms = performance.now() - t0;
              const c = process.cpuUsage(c0);
              cpuMs = (c.user + c.system) / 1000;
            }
          },
        },
      ],
    });
    await learner.fit();
    if (learner.step !== warmup + steps) throw new Error(`train-step-aug: trained ${learner.step} steps, expected ${warmup + steps} (${learner.stopReason})`);
    await (task.source as Partial<PlannedBatchSource>).close?.();
    task.dispose();
    console.log(
      JSON.stringify({
        bench: "loader",
        case: "train-step-aug",
        impl: numWorkers === null ? "no-aug" : `workers-${numWorkers}`,
        ms: Math.round((ms / steps) * 10) / 10,
        samples_per_s: Math.round(((steps * batchSize) / ms) * 1000 * 10) / 10,
        steps,
        warmup,
        batchSize,
        size,
        decode: cfg.data.decode_size || size,
        numWorkers: cfg.data.num_workers,
        cpu_ms_per_step: Math.round((cpuMs / steps) * 10) / 10,
        backend: `${info.backend}${info.simd ? " simd" : ""}, ${info.threads} thread${info.threads === 1 ? "" : "s"}`,
        machine,
        load1: load1(),
      }),
    );
  }
}
