// %% [markdown]
// # 05 · Pretrained embeddings
// What do frozen pretrained encoders see in the listings, and how far does kNN on their features get at matching?

// %% [markdown]
// Three sources sit behind one `embed()` call: nsfwjs's Keras **MobileNetV2** (ImageNet blocks 0–10,
// cut at `out_relu`, 1280-d), **USE-lite** (Universal Sentence Encoder lite, 512-d) and any
// **transformers.js** model you put under `cache/models/` (offline). Embeddings go to an on-disk
// cache keyed by encoder, weights hash, preprocessing and posting_id: the first run computes, later
// runs reload in milliseconds.

// %%
import * as ml from "./dist/index";
await ml.banner();
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: "exists" });
const coded = ml.labelCodes(ds.listings);
const labels = coded.codes;
const groupNames = coded.names;
ml.table(
  Object.entries(ml.ENCODER_SOURCES).map(([id, s]) => ({ source: id, reads: s.modality, summary: s.summary })),
  { caption: `encoder sources · ${ds.listings.length} listings, ${groupNames.length} groups`, index: false },
);

// %% [markdown]
// ## Embed the sample with each encoder
// `embedDataset` embeds images for image encoders and titles for text encoders, through the cache.
// Identical images (several listings share one) are encoded once.

// %%
const ENCODERS = ["mobilenet-v2@96", "use-lite"];
const runs: ml.DatasetEmbeddings[] = [];
for (const model of ENCODERS) runs.push(await ml.embedDataset(ds, { model, normalize: true }));
const summary = (r: ml.DatasetEmbeddings) => ({ encoder: r.encoder, field: r.field, n: r.n, dim: r.dim, pooling: r.pooling, computed: r.computed, cached: r.cached, ms: Math.round(r.ms) });
ml.table(runs.map(summary), { caption: "first call (computed unless an earlier run cached them)", index: false });

// %% [markdown]
// A second call is served from the cache: nothing is recomputed.

// %%
const again = [];
for (const model of ENCODERS) again.push(summary(await ml.embedDataset(ds, { model, normalize: true })));
ml.table(again, { caption: "second call", index: false });

// %% [markdown]
// ### Bringing a transformers.js model
// Offline, a hub model must be placed under `cache/models/<name>/`. When it is missing, the error
// says which files and how to get them:

// %%
try {
  runs.push(await ml.embedDataset(ds, { model: "hf-text:Xenova/paraphrase-multilingual-MiniLM-L12-v2", normalize: true }));
  ml.table([summary(runs.at(-1)!)], { index: false });
} catch (err) {
  console.log((err as Error).message);
}

// %% [markdown]
// ## Nearest neighbours
// For a few listings, the 5 nearest others by cosine distance. A green frame marks a listing of
// the same label group, red one of another.

// %%
const [img, txt] = runs as [ml.DatasetEmbeddings, ml.DatasetEmbeddings];
const nbImg = await ml.knnSearch(img.vectors, img.dim, { k: 6, label: null });
const nbTxt = await ml.knnSearch(txt.vectors, txt.dim, { k: 6, label: null });
const queries = [0, 7, 42, 123].filter((q) => q < ds.listings.length);
const cell = (i: number, d: number, q: number) => ({
  src: ds.listings[i]!.imagePath,
  caption: `${ds.listings[i]!.title} · ${d.toFixed(3)}`,
  color: i === q ? "#555" : labels[i] === labels[q] ? "#2a9d55" : "#d1495b",
});
for (const q of queries) {
  const row = Array.from({ length: 6 }, (_, j) => cell(nbImg.indices[q * 6 + j]!, nbImg.distances[q * 6 + j]!, q));
  await ml.imageGrid(row, { size: 80, columns: 6, title: `image neighbours of ${ds.listings[q]!.postingId} (first: the query)` });
}

// %%
ml.table(
  queries.flatMap((q) =>
    Array.from({ length: 6 }, (_, j) => {
      const i = nbTxt.indices[q * 6 + j]!;
      return { query: ds.listings[q]!.title, rank: j, neighbour: ds.listings[i]!.title, distance: nbTxt.distances[q * 6 + j]!, "same group": labels[i] === labels[q] };
    }),
  ),
  { caption: "use-lite: title neighbours", index: false, maxRows: 24 },
);

// %% [markdown]
// ## A 2-D projection
// PCA (power iteration, `pcaProject`) of each encoder's vectors, coloured by label group (the 10
// largest groups in colour, the rest grey).

// %%
for (const r of [img, txt]) {
  const p = ml.pcaProject(r.vectors, r.dim, { components: 2, seed: 0 });
  const xs = Array.from({ length: r.n }, (_, i) => p.projected[2 * i]!);
  const ys = Array.from({ length: r.n }, (_, i) => p.projected[2 * i + 1]!);
  ml.show(
    ml.scatterChart({
      x: xs,
      y: ys,
      groups: ds.listings.map((l) => l.extra.label || l.labelGroup),
      text: ds.listings.map((l) => l.title),
      title: `${r.encoder}: PCA (explained ${(100 * (p.explained[0]! + p.explained[1]!)).toFixed(1)}%)`,
      height: 420,
    }),
  );
}

// %% [markdown]
// ## Matching F1 of kNN on frozen features
// Each listing's matches are its neighbours within a maximum cosine distance (with and without
// "min-2": always keep the nearest one); the max distance is the best over the sample. Two floors: every
// listing matched only to itself, and to itself plus one random listing. P@1: how often the nearest
// other listing shares the group (chance ≈ mean group size / listings).

// %%
const groupOf = ml.labelCodes(ds.listings).codes;
const both = ml.concatFeatures({ n: img.n, ids: img.ids, labels: groupOf, classes: [], blocks: [img, txt] });
const selfOnly = Array.from({ length: img.n }, (_, i) => Int32Array.of(i));
const pairRng = new ml.Rng(0);
const randomPair = selfOnly.map((_, i) => Int32Array.of(i, (i + 1 + pairRng.int(img.n - 1)) % img.n));
const f1Rows = [
  { features: "self only (floor)", f1: ml.matchScores(selfOnly, groupOf).f1, "f1 no min-2": Number.NaN, "P@1": Number.NaN, "max distance": Number.NaN },
  { features: "self + random (chance)", f1: ml.matchScores(randomPair, groupOf).f1, "f1 no min-2": Number.NaN, "P@1": Number.NaN, "max distance": Number.NaN },
];
for (const [name, x, d] of [
  ["image · mobilenet-v2@96", img.vectors, img.dim],
  ["text · use-lite", txt.vectors, txt.dim],
  ["both · concat", both, img.dim + txt.dim],
] as Array<[string, Float32Array, number]>) {
  const nb = await ml.knnSearch(x, d, { k: 50, label: null });
  const best = ml.bestThreshold(nb, groupOf);
  f1Rows.push({ features: name, f1: best.f1, "f1 no min-2": ml.bestThreshold(nb, groupOf, { min2: false }).f1, "P@1": ml.precisionAt1(nb, groupOf), "max distance": best.maxDistance });
}
ml.table(f1Rows, { caption: "matching on the sample (best max distance: match when cosine distance ≤ it)", index: false });

// %% [markdown]
// ## A head trained on cached features
// The fast path, through the same run driver as every training run: with `model.input: features`
// only the embedding layers, the concat fusion and an ArcFace head train, on the cached vectors of
// the two encoders above (never running an encoder). Validation groups are unseen in training;
// validation F1 is matching F1 on their fused embeddings. `configs/features.yaml` is the same run.

// %%
const featCfg = ml.resolveConfig({
  name: "nb05-features",
  data: { dataset: ml.env.dataset, folds: 5, fold: 0 },
  model: { input: "features", encoders: ENCODERS, fusion: { kind: "concat" }, embedding_dim: 128 },
  heads: { fused: { kind: "arcface", s: 30, m: 0.2 } },
  optim: { epochs: 5, batch_size: 64, lr: 0.003 },
  train: { log_period: 0 },
});
const fr = await ml.trainRun(featCfg, { runsDir: ml.env.runsDir, dataset: ds, progressBars: false, keepModel: false, log: () => {} });
ml.table([
  { model: "untrained", val_f1: fr.untrained },
  { model: `best epoch (of ${featCfg.optim.epochs})`, val_f1: fr.best },
  { model: "final", val_f1: fr.final },
], { index: false, digits: 4, caption: `run ${fr.run}: ${fr.steps} steps, ${fr.seconds.toFixed(1)} s with validation` });

// %%
const featCurve = ml.readMetricsCsv(`${fr.dir}/metrics.csv`);
ml.show(ml.lineChart([
  { name: "train loss", x: featCurve.map((r) => r.epoch!), y: featCurve.map((r) => r.train_loss!) },
  { name: "val F1", x: featCurve.map((r) => r.epoch!), y: featCurve.map((r) => r.val_f1!), right: true },
], { title: `features head: untrained val F1 ${fr.untrained!.toFixed(3)} → best ${fr.best!.toFixed(3)}`, xTitle: "epoch", yTitle: "train loss", y2Title: "val matching F1", height: 320 }));
