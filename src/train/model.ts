/**
 * What every task shares between the rows and the loop: listings turned into flat arrays once
 * (decoded images as uint8, title features or token ids, or cached frozen-encoder features), the
 * model with a head per branch, the batch source (natural or class-balanced), the training forward
 * pass (head losses with class weights, optional triplet), and inference (embeddings, head
 * probabilities).
 */
import * as tf from "@tensorflow/tfjs";
import type { Dataset, Listing } from "../data/dataset";
import { loadImageBytes } from "../data/image_bytes";
import { listingText } from "../data/labels";
import { type FeatureTable, featureBatchSource, loadFeatureTable } from "../embeddings/features";
import { mobilenetWeights } from "../embeddings/mobilenet";
import { env } from "../env";
import { isMarginHead, makeHead, marginAt } from "../heads/index";
import { classWeights } from "../losses/class_weights";
import { CLASSIFICATION_LOSSES } from "../losses/cross_entropy";
import { reduceLoss } from "../losses/reduce";
import { batchHardTripletLoss } from "../losses/triplet";
import { setDropoutStep } from "../models/layers";
import { type BranchName, buildMatchModel, type MatchModel } from "../models/multimodal";
import { bagIds, hashedNgrams, tokenIds } from "../models/text";
import { rowImage } from "../augment/batch";
import type { Transform } from "../augment/transform";
import { augmentBatchSource } from "./augment_source";
import { augmentPipeline, decodeSize, evalPipeline, featureEncoderModalities, type RunConfig } from "./config";
import type { Batch, BatchSource, ForwardResult, Learner } from "./learner";
import type { NamedParam } from "./optimizer";
import { balancedBatchSource, classBalancedSampler } from "./sampler";
import type { TaskSplit } from "./tasks/types";

/** Listings turned into flat arrays, once. */
export interface PreparedData {
  n: number;
  /** Posting id of each row. */
  ids: string[];
  /** The model's input side (data.image_size). */
  imageSize: number;
  /** The side the images are decoded at (data.decode_size; defaults to imageSize). */
  decodeSize?: number;
  /** n × D × D × 3 bytes, RGB, D the decode side (empty when the model has no image encoder). */
  images: Uint8Array;
  /** n × textDim floats (n-gram) or n × maxLen ids (tokens). */
  text: Float32Array | Int32Array;
  textDim: number;
  /** With `model.input: features`: the cached embeddings, row-aligned, image block (if any) before text. */
  features?: FeatureTable;
  /** The modality of each `features` block, in the same order. */
  featureModalities?: ("image" | "text")[];
}

/** Options for {@link prepareData}. */
export interface PrepareDataOptions {
  /** Cache folder for embeddings with `model.input: features`. Defaults to `env.cacheDir`. */
  cacheDir?: string;
  /** Show a progress bar while decoding images. Defaults to `env.progress`. */
  showProgress?: boolean;
}

/** Decodes images (cached as uint8 under the cache folder) and featurises titles, for the listings of `ds`. */
export async function prepareData(ds: Dataset, cfg: RunConfig, opts: PrepareDataOptions = {}): Promise<PreparedData> {
  const { cacheDir = env.cacheDir, showProgress = env.progress } = opts;
  const listings = ds.listings;
  const n = listings.length;
  const S = cfg.data.image_size;
  const D = decodeSize(cfg);
  const useFeatures = cfg.model.input === "features";
  const images = !useFeatures && cfg.model.image.encoder !== "none" ? (await loadImageBytes(ds, { size: D, showProgress })).data : new Uint8Array(0);
  const titles = listings.map((l) => listingText(l, cfg.data.tags));
  const t = cfg.model.text;
  const tEnc = useFeatures ? "none" : t.encoder;
  const text =
    tEnc === "transformer"
      ? tokenIds(titles, { vocab: t.vocab, maxLen: t.max_len })
      : tEnc === "bag"
        ? bagIds(titles, { vocab: t.vocab, maxLen: t.max_len })
        : tEnc === "ngram"
          ? hashedNgrams(titles, { dim: t.dim })
          : new Float32Array(0);
  const textDim = tEnc === "transformer" || tEnc === "bag" ? t.max_len : tEnc === "ngram" ? t.dim : 0;
  const out: PreparedData = { n, ids: listings.map((l) => l.postingId), imageSize: S, decodeSize: D, images, text, textDim };
  if (useFeatures) Object.assign(out, await prepareFeatures(ds, cfg, cacheDir));
  return out;
}

/** Embeds (or reloads from the cache) the listings with `model.encoders`, image block first. */
async function prepareFeatures(ds: Dataset, cfg: RunConfig, cacheDir: string): Promise<Pick<PreparedData, "features" | "featureModalities">> {
  const mods = featureEncoderModalities(cfg);
  const order = [...cfg.model.encoders.keys()].sort((a, b) => (mods[a] === mods[b] ? a - b : mods[a] === "image" ? -1 : 1));
  const encoders = order.map((i) => cfg.model.encoders[i]!);
  const features = await loadFeatureTable(ds, { encoders, normalize: true, cacheDir });
  ds.listings.forEach((l: Listing, i) => {
    if (features.ids[i] !== l.postingId) throw new Error(`cached features are not row-aligned with the listings at row ${i}: ${features.ids[i]} vs ${l.postingId}`);
  });
  return { features, featureModalities: order.map((i) => mods[i]!) };
}

const INV255 = 1 / 255;

/** The image input of some rows: decoded bytes as floats, through `transform` (the evaluation transform) when given. */
function imageInput(data: PreparedData, rows: ArrayLike<number>, transform: Transform | null): tf.Tensor {
  const B = rows.length;
  const S = data.imageSize;
  const D = data.decodeSize ?? S;
  const px = S * S * 3;
  const buf = new Float32Array(B * px);
  for (let b = 0; b < B; b++) {
    if (transform) {
      const img = transform.run(rowImage(data.images, D, rows[b]!), { seed: 0, epoch: 0, index: rows[b]! }).image;
      buf.set(img.data, b * px);
      continue;
    }
    const src = data.images.subarray(rows[b]! * px, (rows[b]! + 1) * px);
    for (let k = 0; k < px; k++) buf[b * px + k] = src[k]! * INV255;
  }
  return tf.tensor4d(buf, [B, S, S, 3]);
}

/** The text input of some rows (n-gram features or token ids), or none. */
function textInputs(data: PreparedData, rows: ArrayLike<number>): tf.Tensor[] {
  if (data.textDim === 0) return [];
  const B = rows.length;
  const D = data.textDim;
  if (data.text instanceof Int32Array) {
    const buf = new Int32Array(B * D);
    for (let b = 0; b < B; b++) buf.set(data.text.subarray(rows[b]! * D, (rows[b]! + 1) * D), b * D);
    return [tf.tensor2d(buf, [B, D], "int32")];
  }
  const buf = new Float32Array(B * D);
  for (let b = 0; b < B; b++) buf.set(data.text.subarray(rows[b]! * D, (rows[b]! + 1) * D), b * D);
  return [tf.tensor2d(buf, [B, D])];
}

/**
 * The model inputs of some rows, deterministic: cached features, or the image (through the
 * evaluation `transform`: centre crop, normalize) and the text features.
 */
export function inputsFor(data: PreparedData, rows: ArrayLike<number>, transform: Transform | null = null): tf.Tensor[] {
  if (data.features) {
    return data.features.blocks.map((blk) => {
      const x = new Float32Array(rows.length * blk.dim);
      for (let b = 0; b < rows.length; b++) x.set(blk.vectors.subarray(rows[b]! * blk.dim, (rows[b]! + 1) * blk.dim), b * blk.dim);
      return tf.tensor2d(x, [rows.length, blk.dim]);
    });
  }
  return [...(data.images.length > 0 ? [imageInput(data, rows, transform)] : []), ...textInputs(data, rows)];
}

/** The model, its heads and everything the loop and the task's validation need. */
export interface RunModel {
  cfg: RunConfig;
  data: PreparedData;
  split: TaskSplit;
  /** The encoders, fusion and embedding layers. */
  net: MatchModel;
  /** A head per configured branch. */
  heads: Partial<Record<BranchName, tf.layers.Layer>>;
  /** The branch whose head predicts and whose embeddings are matched (eval.branch, else the first headed branch). */
  mainBranch: BranchName;
  /** The per-class loss weights (1 for every class with `loss.class_weights: none`). */
  classWeights: Float64Array;
  /** Trainable parameters by stable name. */
  params: NamedParam[];
  /** Every state variable by stable name, in a fixed order (hashing, checkpoints). */
  stateVariables(): NamedParam[];
  /** The training batches (augmented in worker threads with data.augment and data.num_workers). */
  source: BatchSource;
  /** The forward pass with losses. */
  forward(batch: Batch, learner: Learner): ForwardResult;
  /** Embeddings of `rows` for a branch (L2-normalised), n × embedding_dim. */
  embed(rows: ArrayLike<number>, branch?: BranchName): Float32Array;
  /** Softmax probabilities of the main head (without margin), n × numClasses. */
  predict(rows: ArrayLike<number>): Float32Array;
  /** Frees the model's and heads' weights. */
  dispose(): void;
}

function layerVars(layers: tf.layers.Layer[], trainableOnly: boolean): NamedParam[] {
  const out: NamedParam[] = [];
  for (const l of layers) for (const w of trainableOnly ? l.trainableWeights : l.weights) out.push({ name: w.originalName, variable: w.read() as tf.Variable });
  return out;
}

/**
 * Starts the model's MobileNetV2 trunk (alpha 1.0) from nsfwjs's pretrained ImageNet weights
 * (model.image.pretrained): every weight of the trunk, by its Keras name, and every pretrained weight
 * used, or an error naming the first that does not fit.
 */
export function loadPretrainedTrunk(model: tf.LayersModel): void {
  const trunk = model.layers.find((l) => l instanceof tf.LayersModel && l.name.startsWith("mobilenetv2_"));
  if (!trunk) throw new Error("model.image.pretrained: the model has no MobileNetV2 trunk (model.image.encoder: mobilenet_v2)");
  const weights = mobilenetWeights();
  try {
    for (const w of trunk.weights) {
      const src = weights[w.originalName];
      if (!src) throw new Error(`model.image.pretrained: the pretrained MobileNetV2 has no weight ${w.originalName}`);
      if (src.shape.join(",") !== w.shape.join(",")) throw new Error(`model.image.pretrained: ${w.originalName} is [${w.shape}] in the model but [${src.shape}] pretrained (the weights are alpha 1.0)`);
      w.write(src);
    }
    const used = new Set(trunk.weights.map((w) => w.originalName));
    const unused = Object.keys(weights).filter((k) => !used.has(k));
    if (unused.length > 0) throw new Error(`model.image.pretrained: ${unused.length} pretrained weights have no place in the model (first: ${unused[0]})`);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** Runs `fn` over `rows` in batches of `bs`, writing `width` floats per row. */
function batched(rows: ArrayLike<number>, bs: number, width: number, fn: (idx: number[]) => tf.Tensor): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let s = 0; s < rows.length; s += bs) {
    const idx = Array.from({ length: Math.min(bs, rows.length - s) }, (_, k) => rows[s + k]!);
    const t = fn(idx);
    out.set(t.dataSync(), s * width);
    t.dispose();
  }
  return out;
}

/** Builds the model, heads, batch source and forward pass for a config, prepared data and a split. */
export function buildRunModel(cfg: RunConfig, data: PreparedData, split: TaskSplit): RunModel {
  const { train, classOf, numClasses } = split;
  const m = cfg.model;
  const feats = data.features;
  if (m.input === "features" && !feats) throw new Error("model.input is features, but the prepared data has no feature table (prepare it with prepareData)");
  // with cached features, a modality's encoder is its block (or none when no encoder reads it)
  const featDim = (mod: "image" | "text") => {
    const i = data.featureModalities?.indexOf(mod) ?? -1;
    return i < 0 ? 0 : feats!.blocks[i]!.dim;
  };
  const net = buildMatchModel({
    image: feats
      ? { encoder: featDim("image") > 0 ? "features" : "none", featureDim: featDim("image") }
      : { encoder: m.image.encoder, alpha: m.image.alpha, frozenBatchNorm: m.image.pretrained, size: cfg.data.image_size, widths: m.image.widths, blocks: m.image.blocks, pooling: m.image.pooling },
    text: feats
      ? { encoder: featDim("text") > 0 ? "features" : "none", featureDim: featDim("text") }
      : { encoder: m.text.encoder, dim: m.text.dim, vocab: m.text.vocab, maxLen: m.text.max_len, width: m.text.width, layers: m.text.layers, heads: m.text.heads },
    fusion: { kind: m.fusion.kind, layers: m.fusion.layers, width: m.fusion.width, heads: m.fusion.heads },
    embeddingDim: m.embedding_dim,
    dropout: m.dropout,
    seed: cfg.seed,
  });
  if (!feats && m.image.pretrained) {
    try {
      loadPretrainedTrunk(net.model);
    } catch (e) {
      net.model.dispose();
      throw e;
    }
  }
  const heads: Partial<Record<BranchName, tf.layers.Layer>> = {};
  let hi = 0;
  for (const [branch, h] of Object.entries(cfg.heads) as [BranchName, NonNullable<RunConfig["heads"]["fused"]>][]) {
    if (!net.branches.includes(branch)) {
      net.model.dispose();
      throw new Error(`heads.${branch}: the model has no ${branch} branch (it has ${net.branches.join("|")})`);
    }
    const head = makeHead(h.kind, { classes: numClasses, s: h.s, m: h.m, k: h.k, easyMargin: h.easy_margin, seed: cfg.seed * 1000 + 7 + hi++, name: `head_${branch}` });
    tf.tidy(() => {
      head.apply(tf.zeros([1, m.embedding_dim]));
    });
    heads[branch] = head;
  }
  const headList = Object.values(heads) as tf.layers.Layer[];
  const params = layerVars([net.model, ...headList], true);
  const stateVariables = () => layerVars([net.model, ...headList], false);
  const mainBranch: BranchName = heads[cfg.eval.branch] ? cfg.eval.branch : (Object.keys(heads)[0] as BranchName);

  const counts = new Float64Array(numClasses);
  for (const r of train) counts[classOf[r]!]! += 1;
  const cw = classWeights(counts, cfg.loss.class_weights, { beta: cfg.loss.class_weight_beta, alpha: cfg.loss.class_weight_alpha });
  const cwTensor = cfg.loss.class_weights === "none" ? null : tf.keep(tf.tensor1d(Array.from(cw), "float32"));

  const evalT = evalPipeline(cfg);
  const augment = feats || data.images.length === 0 ? null : augmentPipeline(cfg);
  const augmented = augment
    ? augmentBatchSource({ images: data.images, decode: data.decodeSize ?? data.imageSize, size: data.imageSize, train, classOf, transform: augment, seed: cfg.seed, numWorkers: cfg.data.num_workers, prefetch: cfg.data.prefetch, extraInputs: (rows) => textInputs(data, rows) })
    : null;
  const natural: BatchSource = feats
    ? featureBatchSource({ ...feats, labels: classOf }, { rows: train })
    : (augmented ?? {
        size: train.length,
        makeBatch(rows) {
          const abs = Int32Array.from(rows, (r) => train[r]!);
          return { inputs: inputsFor(data, abs, evalT), labels: tf.tensor1d(Int32Array.from(abs, (r) => classOf[r]!), "int32"), indices: abs };
        },
      });
  const source = cfg.data.sampling === "class_balanced" ? balancedBatchSource(natural, classBalancedSampler(Array.from(train, (r) => classOf[r]!), { alpha: cfg.data.sampling_alpha, seed: cfg.seed })) : natural;
  const lossFn = CLASSIFICATION_LOSSES[cfg.loss.kind];

  const forward = (batch: Batch, l: Learner): ForwardResult => {
    setDropoutStep(net.model, l.microStep);
    for (const [branch, head] of Object.entries(heads)) {
      const h = cfg.heads[branch as BranchName]!;
      if (h.m_warmup > 0 && isMarginHead(head)) head.m = marginAt({ m: h.m, mStart: h.m_start, warmup: h.m_warmup }, l.step, l.totalSteps);
    }
    const outs = net.model.apply(batch.inputs, { training: true }) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(outs) ? outs : [outs];
    const weights = cwTensor ? tf.gather(cwTensor, batch.labels.toInt()) : undefined;
    const terms: tf.Tensor[] = [];
    const outputs: Record<string, tf.Tensor> = {};
    net.branches.forEach((branch, i) => {
      const head = heads[branch];
      if (!head) return;
      const emb = list[i]!;
      const logits = head.apply([emb, batch.labels], { training: true }) as tf.Tensor;
      const per = lossFn(logits, batch.labels, { gamma: cfg.loss.gamma, labelSmoothing: cfg.loss.label_smoothing });
      terms.push(reduceLoss(per, "mean", weights).mul(cfg.heads[branch]!.weight));
      if (cfg.loss.triplet_weight > 0) terms.push(reduceLoss(batchHardTripletLoss(emb, batch.labels, { margin: cfg.loss.triplet_margin }), "mean_nonzero").mul(cfg.loss.triplet_weight));
      if (branch === mainBranch) outputs.logits = head.apply(emb) as tf.Tensor; // margin-free, for train metrics
    });
    return { loss: tf.addN(terms) as tf.Scalar, outputs };
  };

  const branchOutput = (idx: number[], bi: number) => {
    const inputs = inputsFor(data, idx, evalT);
    const o = net.model.apply(inputs, { training: false }) as tf.Tensor | tf.Tensor[];
    tf.dispose(inputs);
    return (Array.isArray(o) ? o : [o])[bi]!;
  };
  const embed = (rows: ArrayLike<number>, branch: BranchName = mainBranch): Float32Array => {
    const bi = net.branches.indexOf(branch);
    if (bi < 0) throw new Error(`eval.branch: the model has no ${branch} branch (it has ${net.branches.join("|")})`);
    return batched(rows, cfg.eval.batch_size, m.embedding_dim, (idx) =>
      tf.tidy(() => {
        const t = branchOutput(idx, bi);
        return t.div(t.square().sum(1, true).add(1e-12).sqrt());
      }),
    );
  };
  const predict = (rows: ArrayLike<number>): Float32Array => {
    const bi = net.branches.indexOf(mainBranch);
    const head = heads[mainBranch]!;
    return batched(rows, cfg.eval.batch_size, numClasses, (idx) => tf.tidy(() => tf.softmax(head.apply(branchOutput(idx, bi)) as tf.Tensor2D)));
  };
  const dispose = () => {
    void augmented?.close();
    cwTensor?.dispose();
    net.model.dispose();
    for (const h of headList) h.dispose();
  };
  return { cfg, data, split, net, heads, mainBranch, classWeights: cw, params, stateVariables, source, forward, embed, predict, dispose };
}
