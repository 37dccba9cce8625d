import * as ml from "../src/index";
async function main() {
await ml.banner();
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: false });
const { codes: labels } = ml.labelCodes(ds.listings);
const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
ml.table([{ postings: ds.listings.length, groups: new Set(labels).size, folds: 5 }], { caption: ds.dir, index: false });

const feats = await ml.baselineFeatures(ds);
const K = 30;
const nbPixels = await ml.knnWithinFolds(feats.pixels.data, feats.pixels.dim, folds, { k: K, label: null });
const nbChars = await ml.knnWithinFolds(feats.chars.data, feats.chars.dim, folds, { k: K, label: null });
const nbTfidf = ml.sparseKnn(feats.tfidf, { k: K, folds, label: null });
const timings = await ml.measureKnnEngines(feats.pixels.dim);
ml.table(timings.map((t) => ({ engine: t.engine, "probe ms": t.ms, "GFLOP/s": t.gflops, error: t.error ?? "" })), { caption: `kNN engines on a ${feats.pixels.dim}-d probe (auto uses the first)`, index: false });

const branches = [
  { name: "pixels", neighbours: nbPixels },
  { name: "chars", neighbours: nbChars },
  { name: "tfidf", neighbours: nbTfidf },
];
const pairs = ml.pairDistanceFrame(branches, labels, { folds });
const byBranch = pairs.groupby(["branch", "matched"]).col(["distance"]).agg({ distance: ["count", "mean", "median"] as never });
ml.table(byBranch, { caption: "cosine distance of neighbour pairs", index: false });

for (const b of branches) {
  const p = ml.pairDistances(b.neighbours, labels);
  const best = ml.bestThreshold(b.neighbours, labels);
  ml.show(
    ml.histogramChart(
      [
        { name: "matched", values: p.matched },
        { name: "unmatched", values: p.unmatched },
      ],
      { histnorm: "probability", title: `${b.name}: overlap ${ml.distributionOverlap(p.matched, p.unmatched).toFixed(3)}`, xTitle: "cosine distance", lines: [{ at: best.threshold, label: `best threshold ${best.threshold.toFixed(3)}` }], height: 300 },
    ),
  );
}

const summary = ml.distanceSummary(branches, labels, { folds });
ml.table(summary, { caption: "pair distances per branch and fold", index: false, maxRows: 30 });

const curves = branches.map((b) => ({ name: b.name, best: ml.bestThreshold(b.neighbours, labels) }));
for (const c of curves) {
  ml.show(ml.thresholdChart({ thresholds: c.best.curve.map((p) => p.threshold), score: c.best.curve.map((p) => p.f1), precision: c.best.curve.map((p) => p.precision), recall: c.best.curve.map((p) => p.recall) }, { title: `${c.name}: F1 vs distance threshold`, xTitle: "cosine distance threshold", height: 300 }));
}

// each rule at its own best threshold
const setsOf = (nb: ml.KnnResult, min2 = true) => ml.thresholdMatches(nb, { threshold: ml.bestThreshold(nb, labels, { min2 }).threshold, min2 });
const inb = await ml.iterativeBlend(feats.chars.data, feats.chars.dim, { stages: 2, topK: 3, knn: { k: K } });
const inbChars = await ml.knnWithinFolds(inb.embeddings, feats.chars.dim, folds, { k: K, label: null });
const sameFold = (sets: ml.MatchList) => sets.map((s, i) => s.filter((j) => folds[j] === folds[i]));
const phashSets = sameFold(ml.exactKeyMatches(feats.phash));
const titleSets = sameFold(ml.exactKeyMatches(ds.listings.map((l) => ml.normalizeTitle(l.title))));
const unionSets = ml.combineMatches([setsOf(nbPixels), setsOf(nbTfidf)], "union");
const rules: Array<[string, ml.MatchList]> = [
  ["pixels", setsOf(nbPixels)],
  ["pixels, no min-2", setsOf(nbPixels, false)],
  ["chars", setsOf(nbChars)],
  ["chars, no min-2", setsOf(nbChars, false)],
  ["chars + INB (2 stages)", setsOf(inbChars)],
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

ml.table(branches.map((b) => ({ branch: b.name, "precision@1": ml.precisionAt1(b.neighbours, labels), "MAP@R": ml.mapAtR(b.neighbours, labels) })), { index: false });
const bySize = ml.f1ByGroupSize(ml.matchScores(ml.combineMatches([unionSets, phashSets], "union"), labels), labels);
ml.show(ml.barChart({ labels: bySize.map((r) => `${r.size} (${r.count})`), values: bySize.map((r) => r.f1), title: "pixels ∪ tfidf ∪ phash: F1 by true group size (postings)", xTitle: "group size", yTitle: "mean F1", height: 300 }));

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

const approx = await ml.annSearch(feats.pixels.data, feats.pixels.dim, { k: K, label: null });
const exactAll = await ml.knnSearch(feats.pixels.data, feats.pixels.dim, { k: K, label: null });
ml.table([{ library: approx.engine, "recall@30": ml.knnRecall(approx, exactAll), "build ms": approx.buildMs, "search ms": approx.searchMs }], { index: false });

}
main().catch((e) => { console.error('NBERR', e && e.stack ? e.stack.slice(0,3000) : e); process.exit(1); });
