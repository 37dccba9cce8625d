// %% [markdown]
// # 08 · Class imbalance
// Classifying listings into emoji subgroups (a long tail of classes): what do class weights and
// class-balanced sampling trade between overall accuracy and macro F1, which classes pay, and in
// the 2×2 study, what do cross-modal fusion and the emoji's tags add?

// %% [markdown]
// The classes are the `subgroup` column (emojibase's subgroups: `face-smiling`, `animal-bird`, …).
// Everything runs on the shared training loop with tiny models, so the notebook finishes in a few
// minutes on 2 CPU cores; `matchlab study` runs the same on the full dataset.

// %%
import * as ml from "./dist/index";
await ml.banner();
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: "exists" });
const enc = ml.encodeClassLabels(ds.listings, "subgroup");
const counts = ml.classCounts(ds.listings.map((l) => l.extra.subgroup!));
ml.table(counts.head(8), { caption: `${ds.listings.length} listings in ${enc.names.length} subgroups: the largest`, index: false });

// %% [markdown]
// ## The long tail
// Imbalance ratio (largest / smallest class), Gini of the class counts, how many classes hold half
// the listings, and the effective number of samples (Cui et al.: (1 − β^n)/(1 − β), β = 0.999).

// %%
const summary = ml.imbalanceSummary(Array.from(enc.counts));
ml.table([summary], { index: false, digits: 3 });

// %%
ml.show(ml.longTailChart(enc.counts, { title: `listings per subgroup: ratio ${summary.imbalanceRatio.toFixed(0)}, ${summary.classesForHalf} of ${summary.classes} classes hold half`, xTitle: "subgroup rank", yTitle: "listings" }));

// %% [markdown]
// ## Weight strategies
// Per-class loss weights (normalised to mean 1 over the classes) against class rank: `inverse`
// 1/n, `inverse_sqrt` 1/√n, `effective_number` (1 − β)/(1 − β^n), and `power` (the VQA notes'
// "partial" weighting 1/n^α; α = 0.5 would equal inverse_sqrt, α = 0.25 here scales the correction
// back further).

// %%
const STRATEGIES = ["none", "inverse", "inverse_sqrt", "effective_number", "power"] as const;
const sortedCounts = Array.from(enc.counts).sort((a, b) => b - a);
ml.show(
  ml.lineChart(
    STRATEGIES.map((s) => ({ name: s, y: Array.from(ml.classWeights(sortedCounts, s, { alpha: s === "power" ? 0.25 : 0.5 })), dash: s === "power" ? "dot" : "solid" })),
    { title: "class weight against class rank (power: α = 0.25)", xTitle: "subgroup rank (largest first)", yTitle: "weight", logY: true, markers: false },
  ),
);

// %% [markdown]
// ## The trade-off: accuracy against macro F1
// One stratified split (fold 0 of 3), a text-only classifier of the title (a one-block transformer
// over hashed word tokens), 6 epochs per strategy, plus focal loss (γ = 2) and class-balanced
// sampling (classes drawn uniformly). Accuracy counts every listing, so it favours the big classes;
// macro F1 counts every class once, so it rewards getting the tail right. Each variant is one
// dotted override of the same run config, trained by the one run driver (`trainRun`);
// `configs/study_weights.yaml` runs the weight strategies as a study over all 3 folds.

// %%
const runsDir = `${ml.env.runsDir}/notebook-08`;
const base = ml.resolveConfig({
  task: "classify",
  name: "nb08",
  data: { dataset: ml.env.dataset, folds: 3, fold: 0 },
  classify: { label: "subgroup" },
  model: { image: { encoder: "none" }, text: { encoder: "transformer", vocab: 4096, max_len: 16, width: 32, heads: 2 }, fusion: { kind: "none" }, embedding_dim: 64 },
  heads: { fused: null, text: { kind: "softmax" } },
  loss: { kind: "ce", class_weight_alpha: 0.25 },
  optim: { lr: 3e-3, weight_decay: 0.01, batch_size: 32, epochs: 6, schedule: "linear", min_lr_factor: 0 },
  train: { warmup_steps: 11, log_period: 0 },
  eval: { branch: "text" },
});
const variants: Array<[string, Record<string, unknown>]> = [
  ...STRATEGIES.map((s): [string, Record<string, unknown>] => [s === "power" ? "power (α=0.25)" : s, { "loss.class_weights": s }]),
  ["focal γ=2", { "loss.kind": "focal", "loss.gamma": 2 }],
  ["class-balanced sampling", { "data.sampling": "class_balanced", "data.sampling_alpha": 0 }],
];
type VariantResult = { metrics: Record<string, number>; history: Record<string, number>[]; valid: Int32Array; valPred: Int32Array; trainCounts: Float64Array; seconds: number };
const runs = new Map<string, VariantResult>();
for (const [name, overrides] of variants) {
  let cfg = ml.overrideConfig(base, "name", { value: `nb08-${name.replace(/[^A-Za-z0-9_]+/g, "_")}` });
  for (const [k, v] of Object.entries(overrides)) cfg = ml.overrideConfig(cfg, k, { value: v });
  const r = await ml.trainRun(cfg, { runsDir, dataset: ds, keepModel: true, progressBars: false, log: () => {} });
  const split = r.model.split;
  const trainCounts = new Float64Array(split.numClasses);
  for (const i of split.train) trainCounts[split.classOf[i]!]! += 1;
  const valPred = ml.argmaxRows(r.model.predict(split.valid), split.numClasses);
  runs.set(name, { metrics: { ...r.learner.metrics }, history: ml.readMetricsCsv(`${r.dir}/metrics.csv`), valid: split.valid, valPred, trainCounts, seconds: r.seconds });
  r.model.dispose();
}
const tradeoff = [...runs].map(([name, r]) => ({ strategy: name, accuracy: r.metrics.val_accuracy!, macro_f1: r.metrics.val_macro_f1!, macro_recall: r.metrics.val_macro_recall!, top5: r.metrics.val_top5!, seconds: r.seconds }));
ml.table(tradeoff, { index: false, digits: 3, caption: `validation, ${runs.get("none")!.valid.length} listings` });

// %%
ml.show(ml.scatterChart({ x: tradeoff.map((t) => t.accuracy), y: tradeoff.map((t) => t.macro_f1), groups: tradeoff.map((t) => t.strategy), text: tradeoff.map((t) => t.strategy), markerSize: 12, title: "accuracy against macro F1 per strategy", xTitle: "accuracy", yTitle: "macro F1" }));

// %% [markdown]
// Training curves of the unweighted run, read back from its `metrics.csv` (one row per epoch:
// loss, accuracy, top-5, macro/micro P/R/F1 for training and validation).

// %%
const none = runs.get("none")!;
const col = (k: string) => none.history.map((h) => h[k]!);
ml.show(ml.trainingCurves({ train_loss: col("train_loss"), val_loss: col("val_loss"), train_accuracy: col("train_accuracy"), val_accuracy: col("val_accuracy"), val_macro_f1: col("val_macro_f1") }, { title: "unweighted run" }));

// %% [markdown]
// ## Which classes pay: recall against class frequency
// Per-class recall on the validation fold against the class's training count, unweighted against
// inverse-√n weights, and the mean recall of the head, middle and tail thirds of the classes.

// %%
const yValid = Array.from(none.valid, (i) => enc.codes[i]!);
const reports = new Map(["none", "inverse_sqrt"].map((s) => [s, ml.perClassReport(yValid, runs.get(s)!.valPred, { numClasses: enc.names.length, names: enc.names, trainCounts: runs.get(s)!.trainCounts })]));
const pts = [...reports].map(([s, rows]) => ({ s, p: ml.recallFrequencyPoints(rows) }));
ml.show(ml.scatterChart({ x: pts.flatMap((q) => q.p.x), y: pts.flatMap((q) => q.p.y), groups: pts.flatMap((q) => q.p.x.map(() => q.s)), text: pts.flatMap((q) => q.p.text), logX: true, title: `recall against training count (corr. with log count: none ${pts[0]!.p.correlation.toFixed(2)}, inverse_sqrt ${pts[1]!.p.correlation.toFixed(2)})`, xTitle: "training listings of the class (log)", yTitle: "recall" }));

// %%
ml.table(
  [...reports].flatMap(([s, rows]) => ml.recallByBand(rows).map((b) => ({ weights: s, band: b.band, classes: b.classes, "train count": `${b.minCount}–${b.maxCount}`, "mean recall": b.meanRecall, "eval listings": b.support }))),
  { index: false, digits: 3 },
);

// %% [markdown]
// The per-class table, most frequent first (unweighted run), and the most-confused pairs: which
// subgroup's listings went to which other subgroup.

// %%
ml.table(ml.perClassFrame(reports.get("none")!), { maxRows: 12, digits: 3, index: false });

// %%
ml.table(ml.confusionSummary(yValid, none.valPred, { numClasses: enc.names.length, names: enc.names, top: 10 }), { index: false, digits: 3, caption: "most-confused pairs (unweighted run)" });

// %% [markdown]
// ## The 2×2 study: fusion × tags
// {concat fusion, cross-modal transformer fusion over image grid cells + text tokens} × {title
// only, title + the emoji's tags in the listing's locale}, each on 3 stratified folds, image at
// 16 px. `configs/study.yaml` is this exact study (`matchlab study --config configs/study.yaml`).

// %%
const study = ml.loadConfig("configs/study.yaml");
const outcome = await ml.runStudy(study, { dataset: ds, progressBars: false });
ml.table(ml.studyTable(outcome.summary, outcome.metrics), { index: false, caption: `mean ± std over ${study.data.folds} folds, ${enc.names.length} classes, ${outcome.rows} listings` });

// %%
ml.show(
  ml.barChart({
    labels: outcome.summary.map((s) => `${s.values["model.fusion.kind"]}, ${s.values["data.tags"] ? "with" : "without"} tags`),
    values: outcome.summary.map((s) => s.metrics.val_macro_f1!.mean),
    title: "macro F1 per arm (mean over folds)",
    yTitle: "macro F1",
  }),
);
