// %% [markdown]
// # 07 · Ensembles
// Does combining branches beat the best single branch, and with which weights and thresholds?

// %% [markdown]
// The branches are out-of-fold features of every listing (here the cheap ones from notebook 06:
// thumbnail **pixels**, title **chars** n-grams, title **TF-IDF**; trained runs plug in the same
// way through `ml.readEmbeddingsFile`). For each posting the candidates are the union of every
// branch's top-30 within its fold; a rule scores a candidate by the weighted mean of the branches'
// cosine similarities and matches it when that is ≥ a similarity threshold (`minSimilarity`),
// optionally also matching what any single branch is very sure of (the union of branches).

// %%
import * as ml from "./src/index";
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: false });
const { codes: labels } = ml.labelCodes(ds.listings);
const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
const feats = await ml.baselineFeatures(ds);
const K = 30;
const nbPixels = await ml.knnWithinFolds(feats.pixels.data, feats.pixels.dim, folds, { k: K, label: null });
const nbChars = await ml.knnWithinFolds(feats.chars.data, feats.chars.dim, folds, { k: K, label: null });
const nbTfidf = ml.sparseKnn(feats.tfidf, { k: K, folds: folds, label: null });
const members: ml.EnsembleMember[] = [
  { name: "pixels", neighbours: nbPixels, embeddings: feats.pixels },
  { name: "chars", neighbours: nbChars, embeddings: feats.chars },
  { name: "tfidf", neighbours: nbTfidf, similarity: (i, j) => ml.sparseDot(feats.tfidf, i, j) },
];
const table = ml.buildPairTable(members, labels, { folds: folds });
ml.table([{ postings: table.n, "candidate pairs": table.cols.length, "same-group pairs": table.same.reduce((a, b) => a + b, 0) }], { index: false });

// %% [markdown]
// ## CV F1 per combination
// Every subset of branches, tuned by coordinate ascent; the full ensemble also by grid search and
// Nelder–Mead, with and without union thresholds (∪). Every threshold here is a cosine
// similarity: `minSimilarity` for the weighted average, one per branch for the union (match when
// ≥). `f1` is tuned and scored on all postings (optimistic); `cvF1` is nested: each fold is scored
// with weights and thresholds tuned on the other four.

// %%
const report = ml.ensembleReport(table, { methods: ["coordinate", "grid", "nelder-mead"] });
ml.table(
  report.map((r) => ({ combination: r.combination, method: r.method, cvF1: r.cvF1, f1: r.f1, weights: r.weights.map((w) => w.toFixed(2)).join(" "), minSimilarity: r.minSimilarity, "union minSimilarity": r.branchMinSimilarities.map((b) => (b === null ? "–" : b.toFixed(2))).join(" ") })),
  { caption: "CV F1 per combination (best first); thresholds are cosine similarities (match when ≥)", index: false },
);

// %%
const singles = report.filter((r) => !r.combination.includes("+"));
const bestSingle = singles.reduce((a, b) => (b.cvF1 > a.cvF1 ? b : a));
const bestEnsemble = report[0]!;
ml.show(ml.barChart({ labels: report.map((r) => `${r.combination} (${r.method})`), values: report.map((r) => r.cvF1), orientation: "h", sort: "asc", title: `nested CV F1: best ensemble ${bestEnsemble.cvF1.toFixed(4)} vs best single branch (${bestSingle.combination}) ${bestSingle.cvF1.toFixed(4)}`, xTitle: "CV F1", height: 420 }));

// %% [markdown]
// ## How the optimisers get there
// The best F1 found after each evaluation, tuning the weights and the similarity threshold of all
// three branches on all postings.

// %%
const space = [
  { name: "w:chars", lo: 0, hi: 2 },
  { name: "w:tfidf", lo: 0, hi: 2 },
  { name: "minSimilarity", lo: 0, hi: 1 },
];
const objective = (x: number[]) => ml.scorePairTable(table, { weights: [1, x[0]!, x[1]!], minSimilarity: x[2]! }).f1;
const traces = (["grid", "coordinate", "nelder-mead"] as const).map((method) => ({ method, r: ml.maximize(objective, space, { method, maxEvals: 1500, ...(method === "grid" ? {} : { start: [1, 1, 0.5] }) }) }));
ml.show(ml.lineChart(traces.map((t) => ({ name: `${t.method} (${t.r.evals} evals, best ${t.r.value.toFixed(4)})`, x: t.r.trace.map((_, i) => i + 1), y: t.r.trace })), { title: "best F1 so far", xTitle: "evaluations", yTitle: "F1", height: 320 }));

// %% [markdown]
// ## Concatenation
// Concatenating L2-normalised embeddings scaled by √w gives, pair for pair, the same similarity as
// the weighted average; only the candidates differ (the concatenation's own top-k). Here with the
// dense branches and the weights tuned above.

// %%
const denseTable = ml.buildPairTable(members.slice(0, 2), labels, { folds: folds });
const tunedDense = ml.tuneEnsemble(denseTable);
const w = tunedDense.params.weights;
const cat = ml.concatRows([
  { data: feats.pixels.data, dim: feats.pixels.dim, weight: Math.sqrt(w[0]!) },
  { data: feats.chars.data, dim: feats.chars.dim, weight: Math.sqrt(w[1]!) },
]);
const nbCat = await ml.knnWithinFolds(cat.data, cat.dim, folds, { k: K, label: null });
const catBest = ml.bestThreshold(nbCat, labels);
const withCat = ml.buildPairTable(members.slice(0, 2), labels, { folds: folds, extraCandidates: [nbCat] });
ml.table(
  [
    { rule: "concat kNN, best distance threshold", F1: catBest.f1, "match when": ml.formatThreshold(ml.convertThreshold(ml.distanceThreshold(catBest.maxDistance), "similarity")) },
    { rule: "weighted average over union of top-k", F1: tunedDense.score.f1, "match when": ml.formatThreshold(ml.similarityThreshold(tunedDense.params.minSimilarity)) },
    { rule: "weighted average, + concat candidates", F1: ml.scorePairTable(withCat, tunedDense.params).f1, "match when": "same" },
  ],
  { caption: `pixels + chars, weights ${w.map((x) => x.toFixed(2)).join(" / ")}`, index: false },
);

// %% [markdown]
// ## Interactive tuner
// Move the sliders: F1 is recomputed in the page from the embedded pair table (top 20 candidates per
// posting), by the same function as above. No server, no network. It starts at the best rule found.

// %%
const tunedAll = ml.tuneEnsemble(table, { union: true });
ml.displayBundle({ data: { "text/html": ml.ensembleTunerHtml(table, { initial: tunedAll.params, title: "emoji-match ensemble tuner" }) }, metadata: {} });

// %% [markdown]
// ## Summary

// %%
ml.table(
  [
    { what: `best single branch (${bestSingle.combination})`, "CV F1": bestSingle.cvF1 },
    { what: `best ensemble (${bestEnsemble.combination}, ${bestEnsemble.method})`, "CV F1": bestEnsemble.cvF1 },
    { what: "gain", "CV F1": bestEnsemble.cvF1 - bestSingle.cvF1 },
  ],
  { index: false },
);
