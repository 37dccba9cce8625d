// %% [markdown]
// # 04 · Training
// Does a small image + text model, trained with an ArcFace head, match listings better than the same model untrained?

// %% [markdown]
// The run config is YAML (`configs/quick.yaml`), validated against a schema. Here we shorten it so
// the notebook runs in a couple of minutes: four epochs (quick.yaml trains eight), then one more
// after resuming from the checkpoint. `overrideConfig` returns a validated copy with one dotted key set.

// %%
import * as tf from "@tensorflow/tfjs";
import * as ml from "./dist/index";
await ml.banner();
let cfg = ml.loadConfig("configs/quick.yaml");
cfg = ml.overrideConfig(cfg, "data.dataset", { value: ml.env.dataset });
cfg = ml.overrideConfig(cfg, "optim.epochs", { value: 4 });
cfg = ml.overrideConfig(cfg, "train.ckpt_period", { value: 10 });
ml.table([
  { key: "dataset", value: cfg.data.dataset },
  { key: "image", value: `${cfg.model.image.encoder} ${cfg.model.image.widths.join("/")} @${cfg.data.image_size}px, ${cfg.model.image.pooling}` },
  { key: "text", value: `${cfg.model.text.encoder} (${cfg.model.text.dim} hashed n-grams)` },
  { key: "fusion", value: cfg.model.fusion.kind },
  { key: "heads", value: JSON.stringify(cfg.heads) },
  { key: "optimiser", value: `${cfg.optim.optimizer} lr ${cfg.optim.lr}, ${cfg.optim.schedule}, warmup ${cfg.train.warmup_steps}` },
]);

// %% [markdown]
// ## Build the model
// `prepareTask` decodes the images once (cached), hashes the titles, splits the groups into folds
// (validation groups are never seen in training) and builds the model with a head per branch.

// %%
const task = await ml.prepareTask(cfg, { progressBars: false });
const params = task.net.model.countParams();
ml.table([
  { what: "task", value: `${task.def.name} (primary metric ${task.def.metric.name})` },
  { what: "train rows", value: task.split.train.length },
  { what: "validation rows", value: task.split.valid.length },
  { what: "classes (train groups)", value: task.split.numClasses },
  { what: "branches", value: task.net.branches.join(", ") },
  { what: "model parameters", value: params },
  { what: "head parameters", value: Object.values(task.heads).reduce((a, h) => a + h!.countParams(), 0) },
]);

// %% [markdown]
// ## One batch
// A batch is the model inputs (images, title features) plus the head's class index per row.

// %%
const ds = await ml.loadDataset(ml.env.dataset, { checkImages: false });
const batch = await task.source.makeBatch(Int32Array.from([0, 1, 2, 3, 4, 5]), 0);
console.log(batch.inputs.map((t) => `[${t.shape.join(", ")}] ${t.dtype}`).join("  |  "), " labels:", Array.from(batch.labels.dataSync()));
await ml.imageGrid(Array.from(batch.indices, (r) => ({ src: ds.listings[r]!.imagePath, caption: `${ds.listings[r]!.title} (class ${task.split.classOf[r]})` })), { size: 64 });

// %% [markdown]
// ## Forward and loss
// One embedding per branch; the ArcFace head turns the fused embedding into margin logits.

// %%
const fwd = tf.tidy(() => {
  const embs = task.net.model.apply(batch.inputs, { training: false }) as tf.Tensor[];
  const fused = embs[task.net.branches.indexOf("fused")]!;
  const logits = task.heads.fused!.apply([fused, batch.labels]) as tf.Tensor;
  const loss = ml.reduceLoss(ml.crossEntropyLoss(logits, batch.labels), "mean");
  return { shapes: embs.map((e) => e.shape.join("×")), logits: logits.shape.join("×"), loss: loss.dataSync()[0]! };
});
console.log("embeddings", fwd.shapes.join(", "), "→ logits", fwd.logits, "→ loss", fwd.loss.toFixed(4), `(log C = ${Math.log(task.split.numClasses).toFixed(2)})`);

// %% [markdown]
// ## One optimiser step
// The loop's step by hand: gradients of the loss with respect to every trainable weight, then AdamW.
// The loss on the same batch goes down.

// %%
const opt = new ml.AdamW(task.params, { lr: cfg.optim.lr });
const fusedAt = task.net.branches.indexOf("fused");
const lossOn = () => tf.tidy(() => ml.reduceLoss(ml.crossEntropyLoss(task.heads.fused!.apply([(task.net.model.apply(batch.inputs, { training: true }) as tf.Tensor[])[fusedAt]!, batch.labels]) as tf.Tensor, batch.labels), "mean") as tf.Scalar);
const before = lossOn().dataSync()[0]!;
const { grads } = tf.variableGrads(lossOn, task.params.map((p) => p.variable));
opt.step(task.params.map((p) => grads[p.variable.name] ?? tf.zerosLike(p.variable)));
tf.dispose(Object.values(grads));
console.log(`loss ${before.toFixed(4)} → ${lossOn().dataSync()[0]!.toFixed(4)} after one step; ${tf.memory().numTensors} tensors alive`);
opt.dispose();

// %% [markdown]
// ## Fit with live progress
// A fresh model, trained by the `Learner`: callbacks for the progress bar (updating this cell in
// place), meters, checkpoints every 10 steps and at each epoch end, and metrics.csv. First the
// untrained model's validation matching F1, for comparison. (Validation F1 dips in the first epoch
// or two, while the head's class centres settle, then climbs past the untrained model.)

// %%
const runsDir = ml.env.runsDir;
const runId = `notebook-04-${Date.now()}`;
const paths = ml.createRunDir(runsDir, runId, ml.runConfigYaml(cfg), ml.metricsColumns(task.def));
const fresh = await ml.prepareTask(cfg, { progressBars: false });
const untrained = await fresh.validate();
const learner = ml.makeLearner(fresh, cfg, { checkpointsDir: paths.checkpoints, metricsFile: paths.metrics, progressRenderer: ml.notebookProgressRenderer(), log: () => {} });
await learner.fit();
console.log(`untrained val F1 ${untrained.val_f1!.toFixed(4)} → after ${learner.step} steps ${learner.metrics.val_f1!.toFixed(4)}`);

// %% [markdown]
// ## Per-epoch metrics
// `metrics.csv` has one row per epoch: train loss and classification metrics, validation matching
// F1 at the best distance threshold, and leave-one-out kNN classification on the unseen groups.

// %%
const rows = ml.readMetricsCsv(paths.metrics);
ml.table(rows.map((r) => ({ epoch: r.epoch, step: r.step, train_loss: r.train_loss!.toFixed(3), train_acc: r.train_accuracy!.toFixed(3), val_f1: r.val_f1!.toFixed(4), val_distance_threshold: r.val_distance_threshold!.toFixed(3), val_top5: r.val_top5!.toFixed(3) })));

// %% [markdown]
// ## Resume from the checkpoint
// A new process would do exactly this: build the same model, restore weights, optimiser state,
// position and callback state from the newest checkpoint, and carry on (here, for one more epoch).

// %%
const latest = ml.latestCheckpoint(paths.checkpoints)!;
const record = ml.loadCheckpoint(latest);
const cfg3 = ml.overrideConfig(cfg, "optim.epochs", { value: 5 });
const again = await ml.prepareTask(cfg3, { progressBars: false });
const resumed = ml.makeLearner(again, cfg3, { checkpointsDir: paths.checkpoints, metricsFile: paths.metrics, progressBars: false, log: () => {} });
ml.restoreLearner(resumed, record, latest);
console.log(`restored ${latest.split("/").pop()}: epoch ${resumed.epoch}, step ${resumed.step}, weights ${record.meta.weightsSha256.slice(0, 16)}…`);
await resumed.fit();
console.log(`now at step ${resumed.step}, val F1 ${resumed.metrics.val_f1!.toFixed(4)}`);

// %% [markdown]
// ## Evaluate
// Validation matching F1 (mean per-posting F1, each posting matched with itself) at the best
// maximum distance, and the training curve.

// %%
const final = await again.validate();
ml.table([
  { model: "untrained", val_f1: untrained.val_f1!.toFixed(4), "max distance": untrained.val_distance_threshold!.toFixed(3), knn_accuracy: untrained.val_accuracy!.toFixed(3) },
  { model: `trained (${resumed.step} steps)`, val_f1: final.val_f1!.toFixed(4), "max distance": final.val_distance_threshold!.toFixed(3), knn_accuracy: final.val_accuracy!.toFixed(3) },
]);
const curve = ml.readMetricsCsv(paths.metrics);
ml.show(ml.lineChart([
  { name: "train loss", x: curve.map((r) => r.epoch!), y: curve.map((r) => r.train_loss!) },
  { name: "val F1", x: curve.map((r) => r.epoch!), y: curve.map((r) => r.val_f1!), right: true },
], { title: "training curve", xTitle: "epoch", yTitle: "loss", y2Title: "val matching F1" }));
