// %% [markdown]
// # 07 · Ensembles
// Does combining branches beat the best single branch, and with which weights and thresholds?

// %% [markdown]
// The branches are out-of-fold embeddings of every listing: two small models trained here by
// cross-validation (each posting embedded by the fold model that never saw its group), and the
// cheap untrained branches of notebook 06 (thumbnail **pixels**, title **chars** n-grams, title
// **TF-IDF**). For each posting the candidates are the union of every branch's top-50; a rule
// scores a candidate by the weighted mean of the branches' cosine similarities and matches it when
// that is ≥ a similarity threshold (`minSimilarity`), optionally also matching what any single
// branch is very sure of (the union of branches, ∪).
//
// Two configs, each `configs/quick.yaml` shrunk to train in seconds per fold (3 folds, 16 px
// images, a two-stage ResNet, 6 epochs): hashed n-grams of the title with an ArcFace head, and a
// one-layer transformer over title tokens with a CosFace head.

// %%
import * as ml from "./dist/index";
await ml.banner();
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: false });
const runsDir = `${ml.env.runsDir}/notebook-07`;
const set = (cfg: ml.RunConfig, kv: Record<string, unknown>) => Object.entries(kv).reduce((c, [k, v]) => ml.overrideConfig(c, k, { value: v }), cfg);
const ngramCfg = set(ml.loadConfig("configs/quick.yaml"), { name: "nb07-ngram", "data.dataset": ml.env.dataset, "data.folds": 3, "data.image_size": 16, "model.image.widths": [8, 16], "model.embedding_dim": 64, "optim.epochs": 6 });
const tfmCfg = set(ngramCfg, { name: "nb07-transformer", "model.text.encoder": "transformer", "model.text.vocab": 2048, "model.text.max_len": 12, "model.text.width": 32, "model.text.heads": 2, heads: { fused: { kind: "cosface", s: 30, m: 0.2 } } });
ml.table(
  [ngramCfg, tfmCfg].map((c) => ({ config: c.name, image: `${c.model.image.encoder} ${c.model.image.widths.join("/")} @${c.data.image_size}px`, text: c.model.text.encoder, fusion: c.model.fusion.kind, head: `fused ${c.heads.fused!.kind}`, folds: c.data.folds, epochs: c.optim.epochs })),
  { index: false },
);

// %% [markdown]
// ## Cross-validation
// `crossValidate` trains every fold in this process and merges the folds' out-of-fold embeddings
// into `runs/<cv id>/oof/<branch>.f32`, one row per posting (what `matchlab cv` writes).

// %%
const cvs: ml.CvRecord[] = [];
const cvSeconds: number[] = [];
for (const cfg of [ngramCfg, tfmCfg]) {
  const t0 = Date.now();
  cvs.push(await ml.crossValidate(cfg, { runsDir: runsDir, dataset: ds, progressBars: false }));
  cvSeconds.push((Date.now() - t0) / 1000);
}
const mean = (xs: Array<number | null>) => xs.reduce<number>((a, x) => a + (x ?? Number.NaN), 0) / xs.length;
ml.table(
  cvs.map((cv, i) => ({ config: [ngramCfg, tfmCfg][i]!.name, "untrained val_f1": mean(cv.folds.map((f) => f.untrained)), "best val_f1": cv.mean_best, "per fold": cv.folds.map((f) => f.best?.toFixed(3)).join(" "), "oof rows": cv.oof?.rows, seconds: cvSeconds[i] })),
  { caption: `val_f1 of each fold's validation groups (unseen in its training), mean over folds; cvs ${cvs.map((cv) => cv.id).join(", ")}`, index: false },
);

// %% [markdown]
// ## Members and pair tables
// `buildMembers` reads each cv's merged out-of-fold `fused` embeddings and computes the baseline
// branches. The nested CV below uses the cvs' own folds, so each fold's rows come from one model;
// its table searches each fold as its own gallery, the second the whole set as one gallery.

// %%
const { codes: labels } = ml.labelCodes(ds.listings);
const folds = ml.groupKFold(Array.from(labels), { k: ngramCfg.data.folds, shuffle: true, seed: ngramCfg.data.fold_seed }).assignment;
const K = 50;
const names = ["pixels", "chars", "tfidf", "ngram", "transformer"];
const sources: ml.MemberSource[] = [{ kind: "pixels" }, { kind: "chars" }, { kind: "tfidf" }, ...cvs.map((cv) => ({ kind: "run" as const, id: cv.id, branch: "fused" }))];
const built = (await ml.buildMembers(ds, sources, { runsDir: runsDir, mode: "oof", k: K })).map((m, i) => ({ ...m, name: names[i]! }));
const members = await Promise.all(built.map(async (m) => ({ ...m, neighbours: m.sparse ? ml.sparseKnn(m.sparse, { k: K, folds: folds, label: null }) : await ml.knnWithinFolds(m.embeddings!.data, m.embeddings!.dim, folds, { k: K, label: null }) })));
const table = ml.buildPairTable(members, labels, { folds: folds });
const wholeTable = { ...ml.buildPairTable(built, labels), folds: Int32Array.from(folds) };
const sameCount = (t: ml.PairTable) => t.same.reduce((a, b) => a + b, 0);
ml.table(
  [
    { gallery: "each fold its own", postings: table.n, "candidate pairs": table.cols.length, "same-group pairs": sameCount(table) },
    { gallery: "whole set", postings: wholeTable.n, "candidate pairs": wholeTable.cols.length, "same-group pairs": sameCount(wholeTable) },
  ],
  { caption: `members: ${names.join(", ")}`, index: false },
);

// %% [markdown]
// ## Single members against ensembles
// Each rule is tuned by coordinate ascent (weights relative to the first member's, which stays 1;
// `minSimilarity`; with ∪ also one union threshold per member); it finds a local optimum, so a set
// of members can score below one of its subsets. `cvF1` is nested: each fold is scored with the
// rule tuned on the other two; `f1` is tuned and scored on all postings (optimistic).

// %%
const idx = (...ns: string[]) => ns.map((n) => names.indexOf(n));
const combos: Array<[string, number[], boolean]> = [
  ...names.map((n, i): [string, number[], boolean] => [n, [i], false]),
  ["pixels+chars+tfidf", idx("pixels", "chars", "tfidf"), false],
  ["ngram+transformer", idx("ngram", "transformer"), false],
  ["all five", idx(...names), false],
  ["all five ∪", idx(...names), true],
];
const rows = combos.map(([combination, used, union]) => {
  const t = ml.tuneEnsemble(table, { members: used, union });
  const bms = t.params.branchMinSimilarities ?? [];
  return { combination, cvF1: ml.crossValidateEnsemble(table, { members: used, union }).cvF1, f1: t.score.f1, weights: used.map((m) => t.params.weights[m]!.toFixed(2)).join(" "), minSimilarity: t.params.minSimilarity, "union minSimilarity": union ? used.map((m) => (bms[m] == null ? "–" : bms[m]!.toFixed(2))).join(" ") : "" };
});
ml.table(rows, { caption: "tuned on each fold as its own gallery; thresholds are cosine similarities (match when ≥)", index: false });

// %%
const singles = rows.slice(0, names.length);
const bestSingle = singles.reduce((a, b) => (b.cvF1 > a.cvF1 ? b : a));
const bestEnsemble = rows.slice(names.length).reduce((a, b) => (b.cvF1 > a.cvF1 ? b : a));
ml.show(ml.barChart({ labels: rows.map((r) => r.combination), values: rows.map((r) => r.cvF1), orientation: "h", sort: "asc", title: `nested CV F1: best ensemble (${bestEnsemble.combination}) ${bestEnsemble.cvF1.toFixed(4)} vs best single member (${bestSingle.combination}) ${bestSingle.cvF1.toFixed(4)}`, xTitle: "CV F1", height: 380 }));

// %% [markdown]
// ## How the optimisers get there
// The best F1 found after each evaluation, tuning the four relative weights and the similarity
// threshold of all five members on all postings. With five parameters the grid has only four
// points per axis.

// %%
const space = [...names.slice(1).map((n) => ({ name: `w:${n}`, lo: 0, hi: 2 })), { name: "minSimilarity", lo: 0, hi: 1 }];
const objective = (x: number[]) => ml.scorePairTable(table, { weights: [1, ...x.slice(0, 4)], minSimilarity: x[4]! }).f1;
const traces = (["grid", "coordinate", "nelder-mead"] as const).map((method) => ({ method, r: ml.maximize(objective, method === "grid" ? space.map((p) => ({ ...p, steps: 4 })) : space, { method, maxEvals: 1500, ...(method === "grid" ? {} : { start: [1, 1, 1, 1, 0.5] }) }) }));
ml.show(ml.lineChart(traces.map((t) => ({ name: `${t.method} (${t.r.evals} evals, best ${t.r.value.toFixed(4)})`, x: t.r.trace.map((_, i) => i + 1), y: t.r.trace })), { title: "best F1 so far", xTitle: "evaluations", yTitle: "F1", height: 320 }));

// %% [markdown]
// ## Concatenation
// Concatenating L2-normalised embeddings scaled by √w gives, pair for pair, the same similarity as
// the weighted average; only the candidates differ (the concatenation's own top-k). Here with the
// two trained members and their tuned weights.

// %%
const trained = idx("ngram", "transformer").map((i) => members[i]!);
const denseTable = ml.buildPairTable(trained, labels, { folds: folds });
const tunedDense = ml.tuneEnsemble(denseTable);
const w = tunedDense.params.weights;
const cat = ml.concatRows(trained.map((m, i) => ({ data: m.embeddings!.data, dim: m.embeddings!.dim, weight: Math.sqrt(w[i]!) })));
const nbCat = await ml.knnWithinFolds(cat.data, cat.dim, folds, { k: K, label: null });
const catBest = ml.bestThreshold(nbCat, labels);
const withCat = ml.buildPairTable(trained, labels, { folds: folds, extraCandidates: [nbCat] });
ml.table(
  [
    { rule: "concat kNN, best distance threshold", F1: catBest.f1, "match when": ml.formatThreshold(ml.convertThreshold(ml.distanceThreshold(catBest.maxDistance), "similarity")) },
    { rule: "weighted average over union of top-k", F1: tunedDense.score.f1, "match when": ml.formatThreshold(ml.similarityThreshold(tunedDense.params.minSimilarity)) },
    { rule: "weighted average, + concat candidates", F1: ml.scorePairTable(withCat, tunedDense.params).f1, "match when": "same" },
  ],
  { caption: `ngram + transformer, weights ${w.map((x) => x.toFixed(2)).join(" / ")}`, index: false },
);

// %% [markdown]
// ## Fold galleries against the whole gallery
// A test set is searched as one gallery. The same nested CV (same folds, all five members, no
// union) on the whole set as one gallery, as `matchlab match --tune` reports it
// (`cv_f1_fold_galleries`, `cv_f1_full_gallery`, and the threshold each tunes).

// %%
const cvFolds = ml.crossValidateEnsemble(table);
const cvWhole = ml.crossValidateEnsemble(wholeTable);
const byFolds = ml.tuneEnsemble(table).params;
const byWhole = ml.tuneEnsemble(wholeTable).params;
ml.table(
  [
    { tuned: "each fold its own gallery", "nested CV F1": cvFolds.cvF1, "match when": ml.formatThreshold(ml.similarityThreshold(byFolds.minSimilarity)), "its rule on the whole gallery (F1)": ml.scorePairTable(wholeTable, byFolds).f1 },
    { tuned: "whole set as one gallery", "nested CV F1": cvWhole.cvF1, "match when": ml.formatThreshold(ml.similarityThreshold(byWhole.minSimilarity)), "its rule on the whole gallery (F1)": ml.scorePairTable(wholeTable, byWhole).f1 },
  ],
  { index: false },
);

// %% [markdown]
// They differ because the whole gallery is three times larger: every posting meets more look-alike strangers (for the trained members, also rows embedded by other fold models), so F1 drops and the threshold that keeps precision moves up.

// %% [markdown]
// ## Interactive tuner
// Move the sliders: F1 is recomputed in the page from the embedded pair table (the whole set as one
// gallery, top 20 candidates per posting), by the same function as above. No server, no network. It
// starts at the best rule found there, with union thresholds.

// %%
const tunedAll = ml.tuneEnsemble(wholeTable, { union: true });
ml.displayBundle({ data: { "text/html": ml.ensembleTunerHtml(wholeTable, { initial: tunedAll.params, title: "emoji-match ensemble tuner: two trained cvs + baselines" }) }, metadata: {} });

// %% [markdown]
// ## Summary

// %%
ml.table(
  [
    { what: `best single member (${bestSingle.combination}), fold galleries`, "nested CV F1": bestSingle.cvF1 },
    { what: `best ensemble (${bestEnsemble.combination}), fold galleries`, "nested CV F1": bestEnsemble.cvF1 },
    { what: "gain of the ensemble", "nested CV F1": bestEnsemble.cvF1 - bestSingle.cvF1 },
    { what: "all five (coordinate), fold galleries", "nested CV F1": cvFolds.cvF1 },
    { what: "all five (coordinate), whole set as one gallery", "nested CV F1": cvWhole.cvF1 },
  ],
  { index: false },
);
