// %% [markdown]
// # 02 · Augmentations
// What does each augmentation do to a listing's image, with which drawn parameters — and is it reproducible?

// %%
import * as ml from "./dist/index";
const ds = await ml.loadDataset(ml.env.dataset);
const listing = ds.listings[0]!;
const img = await ml.readImage(listing.imagePath, { size: 160 });
console.log(`${listing.postingId}: ${listing.title} (${img.height}×${img.width})`);
await ml.imageGrid([{ src: img, caption: "original" }], { size: 160 });

// %% [markdown]
// ## One grid per transform
// Each cell is the same image at a different sample index; the caption is the transform's `describe()` of what it drew. Streams are `Rng.derive(seed, epoch, index)`, so a cell is the same on every run.

// %%
const SEED = ml.env.seed;
async function grid(t: ml.Transform, title: string, n = 8) {
  const items = [];
  for (let index = 0; index < n; index++) {
    const r = t.run(img, { seed: SEED, epoch: 0, index });
    items.push({ src: r.image, caption: r.describe() });
  }
  await ml.imageGrid(items, { title, size: 120, maxCaption: 70 });
}

// %%
await grid(ml.randomResizedCrop({ size: 160, scale: [0.3, 1] }), "random resized crop (scale 0.3–1, ratio 3/4–4/3)");

// %%
await grid(ml.centerCrop({ size: 112 }), "center crop 112 (deterministic: draws nothing)", 2);

// %%
await grid(ml.randomRotation({ degrees: 30 }), "rotation ±30°, white fill");

// %%
await grid(ml.horizontalFlip(), "horizontal flip, p = 0.5");
await grid(ml.verticalFlip(), "vertical flip, p = 0.5");

// %%
await grid(ml.colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }), "colour jitter (brightness, contrast, saturation 0.4; hue 0.1), random order");

// %%
await grid(ml.coarseDropout({ maxHoles: 6, maxHeight: 0.2, maxWidth: 0.2, p: 1 }), "coarse dropout: 1–6 holes up to 20% of a side");

// %% [markdown]
// ## Normalisation
// `normalizeImage()` maps [0, 1] pixels to ImageNet-standardised values; it draws nothing. Per-channel means before and after:

// %%
const norm = ml.normalizeImage().run(img, { seed: SEED, epoch: 0, index: 0 }).image;
const channelMean = (d: Float32Array, c: number) => {
  let s = 0;
  for (let i = c; i < d.length; i += 3) s += d[i]!;
  return s / (d.length / 3);
};
ml.table(["R", "G", "B"].map((name, c) => ({ channel: name, before: channelMean(img.data, c), after: channelMean(norm.data, c), mean: ml.IMAGENET_MEAN[c], std: ml.IMAGENET_STD[c] })));

// %% [markdown]
// ## The training pipeline, before and after
// The composed pipeline a training run would use, on one listing over six epochs (same index, epoch changes the stream).

// %%
const pipeline = ml.compose([
  ml.randomResizedCrop({ size: 160, scale: [0.5, 1] }),
  ml.horizontalFlip(),
  ml.randomRotation({ degrees: 15 }),
  ml.colorJitter(),
  ml.coarseDropout({ p: 0.5 }),
]);
const epochs = [];
for (let epoch = 0; epoch < 6; epoch++) {
  const r = pipeline.run(img, { seed: SEED, epoch, index: 0 });
  epochs.push({ src: r.image, caption: `epoch ${epoch}: ${r.describe()}` });
}
await ml.imageGrid([{ src: img, caption: "before" }, ...epochs], { title: "before / after (compose)", size: 140, maxCaption: 120 });

// %% [markdown]
// ## Reproducible
// The same (seed, epoch, index) gives the same pixels; the spec round-trips to JSON, which is how DataLoader worker threads rebuild the pipeline.

// %%
const a = pipeline.run(img, { seed: SEED, epoch: 3, index: 7 });
const b = ml.transformFromSpec(JSON.parse(JSON.stringify(pipeline.spec))).run(img, { seed: SEED, epoch: 3, index: 7 });
console.log(`identical pixels: ${a.image.data.every((v, i) => v === b.image.data[i])}`);
console.log(a.describe());

// %% [markdown]
// ## A batch from the DataLoader
// The same pipeline inside `dataLoader`: a worker thread decodes and augments off the main thread, and the batch is identical to one made with 0 workers.

// %%
const loaderOpts = { batchSize: 8, shuffle: true, seed: SEED, imageSize: 160, transform: pipeline };
const firstBatch = async (numWorkers: number) => {
  const loader = ml.dataLoader(ds, { ...loaderOpts, numWorkers });
  try {
    for await (const b of loader) return b;
    throw new Error("empty loader");
  } finally {
    await loader.close();
  }
};
const [withWorker, inline] = [await firstBatch(1), await firstBatch(0)];
const [B, H, W] = withWorker.shape;
console.log(`batch ${withWorker.shape.join("×")}, identical to numWorkers = 0: ${withWorker.images.every((v, i) => v === inline.images[i])}`);
await ml.imageGrid(
  Array.from({ length: B }, (_, i) => ({ src: { data: withWorker.images.subarray(i * H * W * 3, (i + 1) * H * W * 3), height: H, width: W, channels: 3 }, caption: `${withWorker.postingIds[i]} · label ${withWorker.labels[i]}` })),
  { title: "epoch 0, batch 0 (numWorkers = 1)", size: 100 },
);

// %% [markdown]
// ## What training sees: a real config on real listings
// `configs/augmented.yaml`, a shipped training config: images are decoded once at `data.decode_size`, and each epoch draws a new crop, flip and jitter per row; evaluation centre-crops the same decoded image to `data.image_size`.

// %%
const cfg = ml.loadConfig("configs/augmented.yaml");
ml.table([{ "data.image_size": cfg.data.image_size, "data.decode_size": cfg.data.decode_size, "data.num_workers": cfg.data.num_workers, "data.augment": JSON.stringify(cfg.data.augment) }], { maxChars: 200, index: false });

// %%
const trainT = ml.augmentPipeline(cfg)!;
const evalT = ml.evalPipeline(cfg)!;
console.log(`training:   ${JSON.stringify(trainT.spec)}\nevaluation: ${JSON.stringify(evalT.spec)}`);

// %%
const decode = ml.decodeSize(cfg);
const bytes = await ml.loadImageBytes(ds, { size: decode });
const picked = [0, 1, 2, 3, 4].map((k) => Math.floor((k * bytes.n) / 5));
console.log(`decoded ${bytes.n} listings at ${decode}×${decode} (uint8, as training caches them); rows shown: ${picked.join(", ")}`);

// %%
const cells = picked.flatMap((row) => {
  const x = ml.rowImage(bytes.data, decode, row);
  const ev = evalT.run(x, { seed: cfg.seed, epoch: 0, index: row });
  return [
    { src: ev.image, caption: `row ${row} · eval: ${ev.describe() || "centre crop"}` },
    ...[0, 1, 2].map((epoch) => {
      const r = trainT.run(x, { seed: cfg.seed, epoch, index: row });
      return { src: r.image, caption: `epoch ${epoch}: ${r.describe()}` };
    }),
  ];
});
await ml.imageGrid(cells, { title: `per listing: evaluation, then training epochs 0–2 (${cfg.data.image_size}×${cfg.data.image_size}, what the model sees)`, columns: 4, size: 140, kernel: "nearest", maxCaption: 220 });

// %%
const per = cfg.data.image_size ** 2 * 3;
const batch = ml.augmentBatch(bytes.data, decode, { rows: picked, seed: cfg.seed, epoch: 1 }, trainT, cfg.data.image_size);
const same = picked.every((row, i) => trainT.run(ml.rowImage(bytes.data, decode, row), { seed: cfg.seed, epoch: 1, index: row }).image.data.every((v, k) => v === batch[i * per + k]));
console.log(`ml.augmentBatch(rows ${picked.join(",")}, epoch 1) gives the same pixels as pipeline.run per image: ${same}`);
