/**
 * The matching task: prepared arrays (images, text features, labels) from a dataset's listings,
 * or, with `model.input: features`, cached frozen-encoder embeddings (src/embeddings) in their place,
 * the model with a head per branch, the training forward pass (head losses + optional triplet),
 * and validation (matching F1 at the best threshold, leave-one-out kNN classification, NCA loss).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Dataset, Listing } from "../data/dataset";
import { readImage } from "../data/image";
import { type FeatureTable, featureBatchSource, loadFeatureTable } from "../embeddings/features";
import { groupKFold } from "../folds/group_kfold";
import { makeHead } from "../heads/index";
import { classWeights } from "../losses/class_weights";
import { crossEntropyLoss, focalLoss } from "../losses/cross_entropy";
import { reduceLoss } from "../losses/reduce";
import { batchHardTripletLoss } from "../losses/triplet";
import { precisionRecallF1, topKAccuracy } from "../metrics/classification";
import { setDropoutStep } from "../models/layers";
import { type BranchName, buildMatchModel, type MatchModel } from "../models/multimodal";
import { hashedNgrams, tokenIds } from "../models/text";
import { progress } from "../progress";
import { knnSearch } from "../retrieval/knn";
import { bestThreshold } from "../retrieval/thresholds";
import { Rng } from "../rng";
import { featureEncoderModalities, type RunConfig } from "./config";
import { writeAtomic } from "./checkpoint";
import type { Batch, BatchSource, Callback, ForwardResult, Learner } from "./learner";
import type { NamedParam } from "./optimizer";

/** Listings turned into flat arrays, once. */
export interface PreparedData {
  n: number;
  imageSize: number;
  /** n × S × S × 3 floats in [0, 1] (empty when the model has no image encoder). */
  images: Float32Array;
  /** n × textDim floats (n-gram) or n × maxLen ids (tokens). */
  text: Float32Array | Int32Array;
  textDim: number;
  /** Label group index per row (0..groups-1, over the whole dataset). */
  groups: Int32Array;
  groupNames: string[];
  /** With `model.input: features`: the cached embeddings, row-aligned, image block (if any) before text. */
  features?: FeatureTable;
  /** The modality of each `features` block, in the same order. */
  featureModalities?: ("image" | "text")[];
}

/** Options for {@link prepareData}. */
export interface PrepareDataOptions {
  /** Cache folder for decoded images, and for embeddings with `model.input: features`. Defaults to none (decode every time; embeddings then use `env.cacheDir`). */
  cacheDir?: string;
  /** Progress label; null for no bar. Defaults to "decode images". */
  label?: string | null;
  /** The dataset the listings come from; needed with `model.input: features` (embedded through the cache). Defaults to none. */
  dataset?: Dataset;
}

async function mapLimit<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Decodes images (cached as one flat file keyed on paths, sizes and mtimes) and featurises titles. */
export async function prepareData(listings: readonly Listing[], cfg: RunConfig, opts: PrepareDataOptions = {}): Promise<PreparedData> {
  const { cacheDir, label = "decode images" } = opts;
  const n = listings.length;
  const S = cfg.data.image_size;
  const useFeatures = cfg.model.input === "features";
  let images = new Float32Array(0);
  if (!useFeatures && cfg.model.image.encoder !== "none") {
    const key = createHash("sha256");
    key.update(`v1:${S}:`);
    for (const l of listings) {
      const st = statSync(l.imagePath);
      key.update(`${l.imagePath}:${st.size}:${st.mtimeMs};`);
    }
    const file = cacheDir ? path.join(cacheDir, "train", `images-${S}-${key.digest("hex").slice(0, 16)}.f32`) : null;
    if (file && existsSync(file) && statSync(file).size === n * S * S * 3 * 4) {
      const b = readFileSync(file);
      images = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    } else {
      images = new Float32Array(n * S * S * 3);
      const bar = label === null ? null : progress({ label, total: n });
      await mapLimit(n, 8, async (i) => {
        const img = await readImage(listings[i]!.imagePath, { size: S });
        images.set(img.data, i * S * S * 3);
        bar?.tick();
      });
      bar?.finish();
      if (file) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeAtomic(file, [new Uint8Array(images.buffer)]);
      }
    }
  }
  const titles = listings.map((l) => l.title);
  const t = cfg.model.text;
  const tEnc = useFeatures ? "none" : t.encoder;
  const text = tEnc === "transformer" ? tokenIds(titles, { vocab: t.vocab, maxLen: t.max_len }) : tEnc === "ngram" ? hashedNgrams(titles, { dim: t.dim }) : new Float32Array(0);
  const textDim = tEnc === "transformer" ? t.max_len : tEnc === "ngram" ? t.dim : 0;
  const names = new Map<string, number>();
  const groups = new Int32Array(n);
  listings.forEach((l, i) => {
    let g = names.get(l.labelGroup);
    if (g === undefined) {
      g = names.size;
      names.set(l.labelGroup, g);
    }
    groups[i] = g;
  });
  const out: PreparedData = { n, imageSize: S, images, text, textDim, groups, groupNames: [...names.keys()] };
  if (useFeatures) Object.assign(out, await prepareFeatures(listings, cfg, opts));
  return out;
}

/** Embeds (or reloads from the cache) the listings with `model.encoders`, image block first. */
async function prepareFeatures(listings: readonly Listing[], cfg: RunConfig, opts: PrepareDataOptions): Promise<Pick<PreparedData, "features" | "featureModalities">> {
  if (!opts.dataset) throw new Error("prepareData: model.input: features needs opts.dataset (the dataset the listings come from)");
  if (cfg.model.encoders.length === 0) throw new Error("model.input: features needs model.encoders, a list of encoder ids (e.g. [mobilenet-v2@96, use-lite])");
  const mods = featureEncoderModalities(cfg);
  const order = [...cfg.model.encoders.keys()].sort((a, b) => (mods[a] === mods[b] ? a - b : mods[a] === "image" ? -1 : 1));
  const encoders = order.map((i) => cfg.model.encoders[i]!);
  const featureModalities = order.map((i) => mods[i]!);
  for (const mod of ["image", "text"] as const)
    if (featureModalities.filter((m) => m === mod).length > 1) throw new Error(`model.encoders: at most one ${mod} encoder (got ${encoders.join(", ")})`);
  const features = await loadFeatureTable({ ...opts.dataset, listings: [...listings] }, { encoders, normalize: true, cacheDir: opts.cacheDir });
  listings.forEach((l, i) => {
    if (features.ids[i] !== l.postingId) throw new Error(`cached features are not row-aligned with the listings at row ${i}: ${features.ids[i]} vs ${l.postingId}`);
  });
  return { features, featureModalities };
}

/** Train/validation rows for a fold (group k-fold over label groups, shuffled with the seed). */
export function foldRows(data: PreparedData, cfg: RunConfig): { train: Int32Array; valid: Int32Array } {
  const split = groupKFold(data.groups, { k: cfg.data.folds, shuffle: true, seed: cfg.seed });
  const f = split.folds[cfg.data.fold];
  if (!f) throw new Error(`fold ${cfg.data.fold} does not exist (folds: ${cfg.data.folds})`);
  return f;
}

/** Builds the model inputs for some rows (with seeded horizontal flips when `flip` is given). */
export function inputsFor(data: PreparedData, rows: ArrayLike<number>, flip?: (row: number) => boolean): tf.Tensor[] {
  if (data.features) {
    return data.features.blocks.map((blk) => {
      const x = new Float32Array(rows.length * blk.dim);
      for (let b = 0; b < rows.length; b++) x.set(blk.vectors.subarray(rows[b]! * blk.dim, (rows[b]! + 1) * blk.dim), b * blk.dim);
      return tf.tensor2d(x, [rows.length, blk.dim]);
    });
  }
  const inputs: tf.Tensor[] = [];
  const B = rows.length;
  const S = data.imageSize;
  if (data.images.length > 0) {
    const px = S * S * 3;
    const buf = new Float32Array(B * px);
    for (let b = 0; b < B; b++) {
      const r = rows[b]!;
      const src = data.images.subarray(r * px, (r + 1) * px);
      if (flip?.(r)) {
        for (let y = 0; y < S; y++)
          for (let x = 0; x < S; x++)
            for (let c = 0; c < 3; c++) buf[b * px + (y * S + x) * 3 + c] = src[(y * S + (S - 1 - x)) * 3 + c]!;
      } else buf.set(src, b * px);
    }
    inputs.push(tf.tensor4d(buf, [B, S, S, 3]));
  }
  if (data.textDim > 0) {
    const D = data.textDim;
    if (data.text instanceof Int32Array) {
      const buf = new Int32Array(B * D);
      for (let b = 0; b < B; b++) buf.set(data.text.subarray(rows[b]! * D, (rows[b]! + 1) * D), b * D);
      inputs.push(tf.tensor2d(buf, [B, D], "int32"));
    } else {
      const buf = new Float32Array(B * D);
      for (let b = 0; b < B; b++) buf.set(data.text.subarray(rows[b]! * D, (rows[b]! + 1) * D), b * D);
      inputs.push(tf.tensor2d(buf, [B, D]));
    }
  }
  return inputs;
}

/** The model, its heads and everything the loop needs. */
export interface MatchTask {
  cfg: RunConfig;
  data: PreparedData;
  train: Int32Array;
  valid: Int32Array;
  /** Head class index per row (train rows only; -1 elsewhere). */
  classOf: Int32Array;
  numClasses: number;
  match: MatchModel;
  heads: Partial<Record<BranchName, tf.layers.Layer>>;
  /** Trainable parameters by stable name. */
  params: NamedParam[];
  /** Every state variable by stable name, in a fixed order (hashing, checkpoints). */
  stateVariables(): NamedParam[];
  /** The training batches. */
  source: BatchSource;
  /** The forward pass with losses. */
  forward(batch: Batch, learner: Learner): ForwardResult;
  /** Embeddings of `rows` for a branch (L2-normalised), n × embeddingDim. */
  embed(rows: ArrayLike<number>, branch?: BranchName): Float32Array;
  /** Validation metrics on the validation rows. */
  validate(): Promise<Record<string, number>>;
}

function layerVars(layers: tf.layers.Layer[], trainableOnly: boolean): NamedParam[] {
  const out: NamedParam[] = [];
  for (const l of layers) {
    for (const w of trainableOnly ? l.trainableWeights : l.weights) out.push({ name: w.originalName, variable: w.read() as tf.Variable });
  }
  return out;
}

/** Builds the task for a config and prepared data. */
export function buildTask(cfg: RunConfig, data: PreparedData): MatchTask {
  const { train, valid } = foldRows(data, cfg);
  const classOf = new Int32Array(data.n).fill(-1);
  const classIds = new Map<number, number>();
  for (const r of train) {
    let c = classIds.get(data.groups[r]!);
    if (c === undefined) {
      c = classIds.size;
      classIds.set(data.groups[r]!, c);
    }
    classOf[r] = c;
  }
  const numClasses = classIds.size;
  const m = cfg.model;
  const feats = data.features;
  if (cfg.model.input === "features" && !feats) throw new Error("model.input is features, but the prepared data has no feature table (prepare it with prepareData and opts.dataset)");
  // with cached features, a modality's encoder is its block (or none when no encoder reads it)
  const featDim = (mod: "image" | "text") => {
    const i = data.featureModalities?.indexOf(mod) ?? -1;
    return i < 0 ? 0 : feats!.blocks[i]!.dim;
  };
  const match = buildMatchModel({
    image: feats
      ? { encoder: featDim("image") > 0 ? "features" : "none", featureDim: featDim("image") }
      : { encoder: m.image.encoder, alpha: m.image.alpha, size: cfg.data.image_size, widths: m.image.widths, blocks: m.image.blocks, pooling: m.image.pooling },
    text: feats
      ? { encoder: featDim("text") > 0 ? "features" : "none", featureDim: featDim("text") }
      : { encoder: m.text.encoder, dim: m.text.dim, vocab: m.text.vocab, maxLen: m.text.max_len, width: m.text.width, layers: m.text.layers, heads: m.text.heads },
    fusion: { kind: m.fusion.kind, layers: m.fusion.layers, width: m.fusion.width, heads: m.fusion.heads },
    embeddingDim: m.embedding_dim,
    dropout: m.dropout,
    seed: cfg.seed,
  });
  const heads: Partial<Record<BranchName, tf.layers.Layer>> = {};
  let hi = 0;
  for (const [branch, h] of Object.entries(cfg.heads) as [BranchName, NonNullable<RunConfig["heads"]["fused"]>][]) {
    if (!match.branches.includes(branch)) throw new Error(`heads.${branch}: the model has no ${branch} branch (it has ${match.branches.join("|")})`);
    const head = makeHead(h.kind, { classes: numClasses, s: h.s, m: h.m, k: h.k, easyMargin: h.easy_margin, seed: cfg.seed * 1000 + 7 + hi++, name: `head_${branch}` });
    tf.tidy(() => {
      head.apply(tf.zeros([1, m.embedding_dim]));
    });
    heads[branch] = head;
  }
  const headList = Object.values(heads) as tf.layers.Layer[];
  const params = layerVars([match.model, ...headList], true);
  const stateVariables = () => layerVars([match.model, ...headList], false);

  const counts = new Float64Array(numClasses);
  for (const r of train) counts[classOf[r]!]! += 1;
  const cw = cfg.loss.class_weights === "none" ? undefined : classWeights(counts, cfg.loss.class_weights, { beta: cfg.loss.class_weight_beta, alpha: cfg.loss.class_weight_alpha });

  // cached features: batches straight from the table (labels = head class of each train row)
  const source: BatchSource = feats
    ? featureBatchSource({ ...feats, labels: classOf }, { rows: train })
    : {
        size: train.length,
        makeBatch(rows, epoch) {
          const abs = Int32Array.from(rows, (r) => train[r]!);
          const flip = cfg.data.hflip > 0 ? (row: number) => Rng.derive(cfg.seed, "hflip", epoch, row).bool(cfg.data.hflip) : undefined;
          return { inputs: inputsFor(data, abs, flip), labels: tf.tensor1d(Int32Array.from(abs, (r) => classOf[r]!), "int32"), indices: abs };
        },
      };
  const mainBranch: BranchName = heads[cfg.eval.branch] ? cfg.eval.branch : (Object.keys(heads)[0] as BranchName);

  const forward = (batch: Batch, l: Learner): ForwardResult => {
    setDropoutStep(match.model, l.microStep);
    const outs = match.model.apply(batch.inputs, { training: true }) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(outs) ? outs : [outs];
    const terms: tf.Tensor[] = [];
    const outputs: Record<string, tf.Tensor> = {};
    match.branches.forEach((branch, i) => {
      const head = heads[branch];
      if (!head) return;
      const emb = list[i]!;
      const hc = cfg.heads[branch]!;
      const logits = head.apply([emb, batch.labels], { training: true }) as tf.Tensor;
      const per = cfg.loss.kind === "focal" ? focalLoss(logits, batch.labels, { gamma: cfg.loss.gamma, labelSmoothing: cfg.loss.label_smoothing, classWeights: cw }) : crossEntropyLoss(logits, batch.labels, { labelSmoothing: cfg.loss.label_smoothing, classWeights: cw });
      terms.push(reduceLoss(per, "mean").mul(hc.weight));
      if (cfg.loss.triplet_weight > 0) terms.push(reduceLoss(batchHardTripletLoss(emb, batch.labels, { margin: cfg.loss.triplet_margin }), "mean_nonzero").mul(cfg.loss.triplet_weight));
      if (branch === mainBranch) outputs.logits = head.apply(emb) as tf.Tensor; // margin-free, for train metrics
    });
    return { loss: tf.addN(terms) as tf.Scalar, outputs };
  };

  const embed = (rows: ArrayLike<number>, branch: BranchName = cfg.eval.branch): Float32Array => {
    const bi = match.branches.indexOf(branch);
    if (bi < 0) throw new Error(`eval.branch: the model has no ${branch} branch (it has ${match.branches.join("|")})`);
    const D = m.embedding_dim;
    const out = new Float32Array(rows.length * D);
    const bs = cfg.eval.batch_size;
    for (let s = 0; s < rows.length; s += bs) {
      const idx = Array.from({ length: Math.min(bs, rows.length - s) }, (_, k) => rows[s + k]!);
      const inputs = inputsFor(data, idx);
      const e = tf.tidy(() => {
        const o = match.model.apply(inputs, { training: false }) as tf.Tensor | tf.Tensor[];
        const t = (Array.isArray(o) ? o : [o])[bi]!;
        return t.div(t.square().sum(1, true).add(1e-12).sqrt());
      });
      out.set(e.dataSync(), s * D);
      tf.dispose([e, ...inputs]);
    }
    return out;
  };

  const validate = async (): Promise<Record<string, number>> => {
    const D = m.embedding_dim;
    const emb = embed(valid);
    const labels = Int32Array.from(valid, (r) => data.groups[r]!);
    const nv = valid.length;
    const nb = await knnSearch(emb, D, { k: Math.min(cfg.eval.knn, nv), engine: "js", label: null });
    const best = bestThreshold(nb, labels);
    // leave-one-out kNN classification (validation groups are unseen by the heads) and NCA loss
    const pred = new Int32Array(nv);
    let top5 = 0;
    let nca = 0;
    let ncaN = 0;
    for (let i = 0; i < nv; i++) {
      const seen: number[] = [];
      pred[i] = -1;
      for (let t = 0; t < nb.k; t++) {
        const j = nb.indices[i * nb.k + t]!;
        if (j < 0 || j === i) continue;
        if (pred[i] === -1) pred[i] = labels[j]!;
        if (seen.length < 5 && !seen.includes(labels[j]!)) seen.push(labels[j]!);
      }
      if (seen.includes(labels[i]!)) top5++;
      let num = 0;
      let den = 0;
      for (let j = 0; j < nv; j++) {
        if (j === i) continue;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += emb[i * D + d]! * emb[j * D + d]!;
        const e = Math.exp(16 * (dot - 1));
        den += e;
        if (labels[j] === labels[i]) num += e;
      }
      if (num > 0) {
        nca -= Math.log(num / den);
        ncaN++;
      }
    }
    const prf = precisionRecallF1(labels, pred);
    let correct = 0;
    for (let i = 0; i < nv; i++) if (pred[i] === labels[i]) correct++;
    return {
      val_f1: best.f1,
      val_threshold: best.threshold,
      val_loss: ncaN ? nca / ncaN : Number.NaN,
      val_accuracy: correct / Math.max(1, nv),
      val_top5: top5 / Math.max(1, nv),
      val_macro_precision: prf.macro.precision,
      val_macro_recall: prf.macro.recall,
      val_macro_f1: prf.macro.f1,
      val_micro_precision: prf.micro.precision,
      val_micro_recall: prf.micro.recall,
      val_micro_f1: prf.micro.f1,
    };
  };

  return { cfg, data, train, valid, classOf, numClasses, match, heads, params, stateVariables, source, forward, embed, validate };
}

/** Per-epoch training classification metrics from the margin-free logits of the main head. */
export interface TrainMetricsCallback extends Callback {
  /** The finished epoch's metrics (train_*), set at afterEpoch... read them in a later-ordered callback. */
  epochMetrics(): Record<string, number>;
}

/** Accumulates train accuracy, top-5 and macro/micro P/R/F1 over each epoch (state saved in checkpoints). */
export function trainMetricsCallback(numClasses: number): TrainMetricsCallback {
  let yTrue: number[] = [];
  let yPred: number[] = [];
  let top5Hits = 0;
  return {
    name: "train_metrics",
    order: -9,
    beforeEpoch(l) {
      if (l.batchInEpoch === 0) {
        yTrue = [];
        yPred = [];
        top5Hits = 0;
      }
    },
    afterBatch(l) {
      const logits = l.outputs.logits;
      if (!logits || !l.batch) return;
      const scores = logits.dataSync();
      const y = l.batch.labels.dataSync();
      const C = logits.shape[1]!;
      for (let i = 0; i < y.length; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (scores[i * C + c]! > scores[i * C + best]!) best = c;
        yTrue.push(y[i]!);
        yPred.push(best);
      }
      top5Hits += topKAccuracy(y, scores, C, Math.min(5, C)) * y.length;
    },
    epochMetrics(): Record<string, number> {
      if (yTrue.length === 0) return {};
      const prf = precisionRecallF1(yTrue, yPred, { numClasses });
      let correct = 0;
      for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
      return {
        train_accuracy: correct / yTrue.length,
        train_top5: top5Hits / yTrue.length,
        train_macro_precision: prf.macro.precision,
        train_macro_recall: prf.macro.recall,
        train_macro_f1: prf.macro.f1,
        train_micro_precision: prf.micro.precision,
        train_micro_recall: prf.micro.recall,
        train_micro_f1: prf.micro.f1,
      };
    },
    state: () => ({ yTrue, yPred, top5Hits }),
    loadState(s) {
      const st = s as { yTrue: number[]; yPred: number[]; top5Hits: number };
      yTrue = st.yTrue;
      yPred = st.yPred;
      top5Hits = st.top5Hits;
    },
  };
}
