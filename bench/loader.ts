// `npm run bench -- loader [--dataset DIR] [--images N] [--batch B] [--size S] [--step-ms MS] [--epochs E]`
// Images/s of the DataLoader for numWorkers 0, 1 and 2, decoding with sharp and augmenting
// (random resized crop, flip, colour jitter, normalisation). Two cases per worker count:
// "iterate" (the loop does nothing with a batch) and "train-step" (the loop spends --step-ms of
// main-thread CPU per batch, like a training step, which workers can overlap with).
import { existsSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { colorJitter, compose, horizontalFlip, normalizeImage, randomResizedCrop } from "../src/augment/index";
import { dataLoader, loadDataset } from "../src/data/index";
import { env } from "../src/env";

const { values } = parseArgs({
  options: {
    dataset: { type: "string" },
    images: { type: "string", default: "512" },
    batch: { type: "string", default: "32" },
    size: { type: "string", default: "224" },
    "step-ms": { type: "string", default: "60" },
    epochs: { type: "string", default: "2" },
  },
});
const dir = values.dataset ?? (existsSync(`${env.dataDir}/emoji-match/train.csv`) ? `${env.dataDir}/emoji-match` : env.dataset);
const nImages = Number(values.images);
const batchSize = Number(values.batch);
const size = Number(values.size);
const stepMs = Number(values["step-ms"]);
const epochs = Number(values.epochs);

const ds = await loadDataset(dir, { checkImages: "exists", onBadRow: "skip", warn: false });
const indices = Array.from({ length: Math.min(nImages, ds.listings.length) }, (_, i) => i);
const transform = compose([randomResizedCrop({ size, scale: [0.5, 1] }), horizontalFlip(), colorJitter(), normalizeImage()]);

function busy(ms: number) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

const machine = `${os.cpus().length}-core ${os.arch()}, node ${process.version}`;
for (const mode of ["iterate", "train-step"] as const) {
  for (const numWorkers of [0, 1, 2]) {
    const loader = dataLoader(ds, { batchSize, shuffle: true, seed: 0, numWorkers, prefetch: 2, imageSize: size, transform, indices });
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
        load1: Math.round(os.loadavg()[0]! * 10) / 10,
      }),
    );
  }
}
