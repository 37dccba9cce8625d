// %% [markdown]
// # 06 · Distances and thresholds
// How far apart are right and wrong matches in each branch, and where should each branch's threshold sit?

// %% [markdown]
// Matching is scored as in the Shopee competition: the mean over postings of the F1 between the
// predicted match set and the true group (each posting matches itself). Here the branches are cheap
// features computed straight from the data (no trained model needed): 16 px thumbnails
// (**pixels**), hashed character n-grams of the title (**chars**), word **TF-IDF** of the title,
// and the **phash** column. Validation is grouped 5-fold: each posting is matched only against
// postings of its own fold, as when matching out-of-fold embeddings.

// %%
import * as ml from "./dist/index";
await ml.banner();
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: false });
const { codes: labels } = ml.labelCodes(ds.listings);
const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
ml.table([{ postings: ds.listings.length, groups: new Set(labels).size, folds: 5 }], { caption: ds.dir, index: false });

// %% [markdown]
// ## Features and neighbours
// Exact k-nearest neighbours per fold. `engine: "auto"` timed the engines once on a small probe and
// picked the fastest (onnxruntime's native MLAS GEMM, when present).

// %%
const feats = await ml.baselineFeatures(ds);
const K = 30;
const nbPixels = await ml.knnWithinFolds(feats.pixels.data, feats.pixels.dim, folds, { k: K, label: null });
const nbChars = await ml.knnWithinFolds(feats.chars.data, feats.chars.dim, folds, { k: K, label: null });
const nbTfidf = ml.sparseKnn(feats.tfidf, { k: K, folds: folds, label: null });
const timings = await ml.measureKnnEngines(feats.pixels.dim);
ml.table(timings.map((t) => ({ engine: t.engine, "probe ms": t.ms, "GFLOP/s": t.gflops, error: t.error ?? "" })), { caption: `kNN engines on a ${feats.pixels.dim}-d probe (auto uses the first)`, index: false });

// %% [markdown]
// ## Matched vs unmatched distances (danfo)
// Every (posting, neighbour) pair in the top-30 lists, labelled matched when both share a group.
// One danfo frame holds them all; a groupby gives the shape of each distribution.

// %%
const branches = [
  { name: "pixels", neighbours: nbPixels },
  { name: "chars", neighbours: nbChars },
  { name: "tfidf", neighbours: nbTfidf },
];
const pairs = ml.pairDistanceFrame(branches, labels, { folds: folds });
const byBranch = pairs.groupby(["branch", "matched"]).col(["distance"]).agg({ distance: ["count", "mean", "median"] as never });
ml.table(byBranch, { caption: "cosine distance of neighbour pairs", index: false });

// %%
for (const b of branches) {
  const p = ml.pairDistances(b.neighbours, labels);
  const best = ml.bestThreshold(b.neighbours, labels);
  ml.show(
    ml.histogramChart(
      [
        { name: "matched", values: p.matched },
        { name: "unmatched", values: p.unmatched },
      ],
      { histnorm: "probability", title: `${b.name}: overlap ${ml.distributionOverlap(p.matched, p.unmatched).toFixed(3)}`, xTitle: "cosine distance", lines: [{ at: best.maxDistance, label: `best: ${ml.formatThreshold(ml.distanceThreshold(best.maxDistance))}` }], height: 300 },
    ),
  );
}

// %% [markdown]
// ## Per branch and fold
// Median distances, their gap, the overlap of the two distributions, and the best distance
// threshold (`bestMaxDistance`: match when distance ≤ it) with its F1 in each fold. Stable
// thresholds across folds are what make a threshold transferable.

// %%
const summary = ml.distanceSummary(branches, labels, { folds: folds });
ml.table(summary, { caption: "pair distances per branch and fold", index: false, maxRows: 30 });

// %% [markdown]
// ## F1 against the distance threshold
// One curve per branch (min-2 on), with precision and recall: below the best maximum distance
// recall drops, above it precision does.

// %%
const curves = branches.map((b) => ({ name: b.name, best: ml.bestThreshold(b.neighbours, labels) }));
for (const c of curves) {
  ml.show(ml.thresholdChart({ thresholds: c.best.curve.map((p) => p.maxDistance), score: c.best.curve.map((p) => p.f1), precision: c.best.curve.map((p) => p.precision), recall: c.best.curve.map((p) => p.recall) }, { title: `${c.name}: F1 vs distance threshold`, xTitle: "cosine distance threshold", height: 300 }));
}

// %% [markdown]
// ## Match rules
// Each rule at its own best distance threshold: per branch, with and without min-2 (always keep the
// nearest neighbour), with neighbourhood blending (INB: each embedding replaced by the
// similarity-weighted mean of its top 3 neighbours, renormalised, searched again; 2 stages, within
// folds), and the union and intersection of branches, with exact phash and exact-title matches as
// branches of their own. Min-2 only pays when the nearest neighbour is usually right (precision@1
// below), and blending only when the blended neighbours are: gating INB at the branch's own
// threshold (as a similarity, 1 − its best maximum distance) keeps it from pulling in wrong
// neighbours.

// %%
// each rule at its own best distance threshold
const setsOf = (nb: ml.KnnResult, min2 = true) => ml.thresholdMatches(nb, { maxDistance: ml.bestThreshold(nb, labels, { min2 }).maxDistance, min2 });
const inbChars = (await ml.iterativeBlend(feats.chars.data, feats.chars.dim, { stages: 2, topK: 3, folds: folds, knn: { k: K } })).neighbours;
const charsSim = ml.asSimilarity(ml.distanceThreshold(ml.bestThreshold(nbChars, labels).maxDistance));
const inbGated = (await ml.iterativeBlend(feats.chars.data, feats.chars.dim, { stages: 2, topK: 3, minSimilarity: charsSim, folds: folds, knn: { k: K } })).neighbours;
const sameFold = (sets: ml.MatchList) => sets.map((s, i) => s.filter((j) => folds[j] === folds[i]));
const phashSets = sameFold(ml.exactKeyMatches(feats.phash));
const titleSets = sameFold(ml.exactKeyMatches(ds.listings.map((l) => ml.normalizeTitle(l.title))));
const unionSets = ml.combineMatches([setsOf(nbPixels), setsOf(nbTfidf)], "union");
const rules: Array<[string, ml.MatchList]> = [
  ["pixels", setsOf(nbPixels)],
  ["pixels, no min-2", setsOf(nbPixels, false)],
  ["chars", setsOf(nbChars)],
  ["chars, no min-2", setsOf(nbChars, false)],
  ["chars + INB (2 stages, top 3)", setsOf(inbChars)],
  [`chars + INB, only neighbours with similarity ≥ ${charsSim.toFixed(2)}`, setsOf(inbGated)],
  ["tfidf", setsOf(nbTfidf)],
  ["exact phash", phashSets],
  ["exact title", titleSets],
  ["pixels ∪ tfidf", unionSets],
  ["pixels ∩ tfidf", ml.combineMatches([setsOf(nbPixels), setsOf(nbTfidf)], "intersection")],
  ["pixels ∪ tfidf ∪ phash", ml.combineMatches([unionSets, phashSets], "union")],
  ["pixels ∪ tfidf ∪ phash ∪ title", ml.combineMatches([unionSets, phashSets, titleSets], "union")],
];
ml.table(
  rules.map(([rule, sets]) => {
    const s = ml.matchScores(sets, labels);
    return { rule, F1: s.f1, precision: s.precision, recall: s.recall, "matches/posting": sets.reduce((a, x) => a + x.length, 0) / sets.length };
  }),
  { caption: "mean per-posting scores (grouped 5-fold, each posting matched within its fold)", index: false },
);

// %% [markdown]
// ## Retrieval quality and F1 by group size
// Precision@1 and MAP@R score the ranking itself, before any threshold. Larger groups are harder:
// recall has more to find.

// %%
ml.table(branches.map((b) => ({ branch: b.name, "precision@1": ml.precisionAt1(b.neighbours, labels), "MAP@R": ml.mapAtR(b.neighbours, labels) })), { index: false });
// bands that double (2, 3–4, 5–8, …), as `matchlab score --by-size` prints them
const bySize = ml.f1BySizeBand(ml.matchScores(ml.combineMatches([unionSets, phashSets], "union"), labels), labels);
ml.show(ml.barChart({ labels: bySize.map((r) => `${r.from === r.to ? r.from : `${r.from}–${r.to}`} (${r.count})`), values: bySize.map((r) => r.f1), title: "pixels ∪ tfidf ∪ phash: F1 by true group size (postings)", xTitle: "group size", yTitle: "mean F1", height: 300 }));

// %% [markdown]
// ## Neighbour gallery
// A few queries (first image) with their 5 nearest TF-IDF neighbours: distance under each, green
// for the same product, red for another.

// %%
const shown = [3, 50, 200].filter((q) => q < ds.listings.length);
for (const q of shown) {
  const items = [{ src: ds.listings[q]!.imagePath, caption: `query: ${ds.listings[q]!.title}`, color: "#444444" }];
  for (let t = 0; t < 6; t++) {
    const j = nbTfidf.indices[q * K + t]!;
    if (j < 0 || j === q) continue;
    const right = labels[j] === labels[q];
    items.push({ src: ds.listings[j]!.imagePath, caption: `${nbTfidf.distances[q * K + t]!.toFixed(3)} ${right ? "✓" : "✗"} ${ds.listings[j]!.title}`, color: right ? "#009E73" : "#D55E00" });
  }
  await ml.imageGrid(items.slice(0, 6), { size: 72, columns: 6 });
}

// %% [markdown]
// ## Approximate search
// At this size exact search is instant; at 70,000 listings an HNSW index (usearch) is faster. Its
// recall@k against exact search on the pixel features:

// %%
const approx = await ml.annSearch(feats.pixels.data, feats.pixels.dim, { k: K, label: null });
const exactAll = await ml.knnSearch(feats.pixels.data, feats.pixels.dim, { k: K, label: null });
ml.table([{ library: approx.engine, "recall@30": ml.knnRecall(approx, exactAll), "build ms": approx.buildMs, "search ms": approx.searchMs }], { index: false });
