/**
 * The classification task on the shared training loop: an image + text model from src/models
 * (concat or cross-modal transformer fusion), a head from src/heads on the fused embedding,
 * (focal) cross-entropy with a class-weight strategy from src/losses, natural or class-balanced
 * sampling, AdamW with linear warmup/decay (LXMERT's recipe: 10% warmup, weight decay 0.01), and
 * a per-epoch `metrics.csv` in the VQA notes' shape.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { formatCsv, writeFileAtomicSync } from "../data/csv";
import { env } from "../env";
import { type HeadName, makeHead } from "../heads/index";
import { type ClassWeightStrategy, classWeights } from "../losses/class_weights";
import { crossEntropyLoss, focalLoss } from "../losses/cross_entropy";
import { reduceLoss } from "../losses/reduce";
import { argmaxRows } from "../metrics/classification";
import { buildMatchModel, type FusionName } from "../models/multimodal";
import { progress } from "../progress";
import { type Batch, type BatchSource, type Callback, Learner } from "../train/learner";
import { weightsSha256 } from "../train/checkpoint";
import { adamW, type NamedParam } from "../train/optimizer";
import { lrSchedule } from "../train/schedule";
import { CLASSIFY_METRICS_COLUMNS, type ClassificationMetrics, classificationMetrics, classifyMetricsRow } from "./classify";
import type { ImageBytes } from "./features";
import { balancedBatchSource, classBalancedSampler } from "./sampler";

/** The loss of a classifier run. */
export type ClassifierLoss = "cross_entropy" | "focal";
/** How training rows are drawn: every row once per epoch, or classes ∝ n^α. */
export type ClassifierSampling = "natural" | "class_balanced";

const LOSSES: readonly ClassifierLoss[] = Object.freeze(["cross_entropy", "focal"]);
const SAMPLINGS: readonly ClassifierSampling[] = Object.freeze(["natural", "class_balanced"]);

/** The prepared inputs of a classifier: images (optional), token ids and class codes, one row per listing. */
export interface ClassifierInputs {
  /** Decoded images, or null for a text-only model. */
  images: ImageBytes | null;
  /** Hashed word-token ids, n × maxLen. */
  tokens: Int32Array;
  /** Token sequence length. */
  maxLen: number;
  /** Token vocabulary size. */
  vocab: number;
  /** Class code per row. */
  labels: Int32Array;
  /** Number of classes. */
  numClasses: number;
}

/** Options for {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /** How image and text combine: `concat` or the cross-modal `transformer` (image grid cells + text tokens). Ignored without images. Defaults to "concat". */
  fusion?: FusionName;
  /** ResNet stage widths. Defaults to [8, 16, 32]. */
  imageWidths?: number[];
  /** Width of the text transformer and the fusion transformer. Defaults to 32. */
  width?: number;
  /** Attention heads (text and fusion transformers). Defaults to 2. */
  heads?: number;
  /** Embedding size. Defaults to 64. */
  embeddingDim?: number;
  /** The head on the fused embedding. Defaults to "softmax". */
  head?: HeadName;
  /** The loss. Defaults to "cross_entropy". */
  loss?: ClassifierLoss;
  /** Focal γ. Defaults to 2. */
  gamma?: number;
  /** Label smoothing. Defaults to 0. */
  labelSmoothing?: number;
  /** Class-weight strategy (`classWeights` from src/losses), from the training rows' class counts. Defaults to "none". */
  weights?: ClassWeightStrategy;
  /** α of the `power` (partial) strategy. Defaults to 0.5. */
  weightAlpha?: number;
  /** β of the `effective_number` strategy. Defaults to 0.999. */
  weightBeta?: number;
  /** Row sampling. Defaults to "natural". */
  sampling?: ClassifierSampling;
  /** α of class-balanced sampling (0 = uniform over classes). Defaults to 0. */
  samplingAlpha?: number;
  /** Epochs. Defaults to 4. */
  epochs?: number;
  /** Batch size. Defaults to 32. */
  batchSize?: number;
  /** Peak learning rate. Defaults to 3e-3. */
  lr?: number;
  /** AdamW weight decay. Defaults to 0.01. */
  weightDecay?: number;
  /** Fraction of the steps spent in linear warmup (then linear decay to 0). Defaults to 0.1. */
  warmup?: number;
  /** Seed of the weights and the batch order. Defaults to `env.seed`. */
  seed?: number;
  /** Folder to write `metrics.csv` (rewritten atomically each epoch) and `summary.json` into; null for none. Defaults to null. */
  runDir?: string | null;
  /** Show a progress bar over the steps. Defaults to `env.progress`. */
  showProgress?: boolean;
  /** Called with each epoch's metrics row. Defaults to none. */
  onEpoch?: (row: Record<string, number>) => void;
}

/** What {@link trainClassifier} returns. */
export interface ClassifierResult {
  /** One `metrics.csv` row per epoch (see CLASSIFY_METRICS_COLUMNS). */
  history: Record<string, number>[];
  /** Validation metrics after the last epoch. */
  val: ClassificationMetrics;
  /** Validation predictions (class codes), in `valid` order. */
  valPred: Int32Array;
  /** Validation softmax probabilities, valid.length × numClasses. */
  valProbs: Float32Array;
  /** The class weights the loss used. */
  classWeights: Float64Array;
  /** Training rows per class. */
  trainCounts: Int32Array;
  /** Optimiser steps taken. */
  steps: number;
  /** Trainable parameters (scalars). */
  params: number;
  /** Trainable weight tensors. */
  paramTensors: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** SHA-256 of the trained weights (model and head, as `weightsSha256` in src/train hashes them). */
  weightsSha256: string;
}

const asList = (t: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[]): tf.Tensor[] => (Array.isArray(t) ? t : [t]) as tf.Tensor[];

function gatherRows(inputs: ClassifierInputs, rows: ArrayLike<number>): { inputs: tf.Tensor[]; labels: tf.Tensor } {
  const b = rows.length;
  const out: tf.Tensor[] = [];
  if (inputs.images) {
    const s = inputs.images.size;
    const per = s * s * 3;
    const img = new Float32Array(b * per);
    for (let i = 0; i < b; i++) {
      const src = inputs.images.data.subarray(rows[i]! * per, (rows[i]! + 1) * per);
      for (let k = 0; k < per; k++) img[i * per + k] = src[k]! / 255;
    }
    out.push(tf.tensor4d(img, [b, s, s, 3]));
  }
  const L = inputs.maxLen;
  const tok = new Int32Array(b * L);
  for (let i = 0; i < b; i++) tok.set(inputs.tokens.subarray(rows[i]! * L, (rows[i]! + 1) * L), i * L);
  out.push(tf.tensor2d(tok, [b, L], "int32"));
  const lab = new Int32Array(b);
  for (let i = 0; i < b; i++) lab[i] = inputs.labels[rows[i]!]!;
  return { inputs: out, labels: tf.tensor1d(lab, "int32") };
}

function checkInputs(inputs: ClassifierInputs, train: Int32Array, valid: Int32Array): void {
  const n = inputs.labels.length;
  if (inputs.tokens.length !== n * inputs.maxLen) throw new Error(`trainClassifier: tokens has ${inputs.tokens.length} ids, expected n × maxLen = ${n} × ${inputs.maxLen}`);
  if (inputs.images && inputs.images.n !== n) throw new Error(`trainClassifier: ${inputs.images.n} images for ${n} labels (expected one per row)`);
  for (const [name, idx] of [
    ["train", train],
    ["valid", valid],
  ] as const) {
    if (idx.length === 0) throw new Error(`trainClassifier: the ${name} split is empty`);
    for (const i of idx) if (!(i >= 0 && i < n)) throw new Error(`trainClassifier: ${name} row ${i} is outside 0..${n - 1}`);
  }
  for (let i = 0; i < n; i++) {
    const c = inputs.labels[i]!;
    if (!(c >= 0 && c < inputs.numClasses)) throw new Error(`trainClassifier: label ${c} of row ${i} is outside 0..${inputs.numClasses - 1}`);
  }
}

/**
 * Trains a classifier on rows `train` and evaluates on `valid` after every epoch.
 * @example
 * const r = await trainClassifier(inputs, fold.train, fold.valid, { fusion: "transformer", weights: "inverse_sqrt" });
 * r.val.macro_f1
 */
export async function trainClassifier(inputs: ClassifierInputs, train: Int32Array, valid: Int32Array, opts: TrainClassifierOptions = {}): Promise<ClassifierResult> {
  const {
    fusion = "concat",
    imageWidths = [8, 16, 32],
    width = 32,
    heads = 2,
    embeddingDim = 64,
    head = "softmax",
    loss = "cross_entropy",
    gamma = 2,
    labelSmoothing = 0,
    weights = "none",
    weightAlpha = 0.5,
    weightBeta = 0.999,
    sampling = "natural",
    samplingAlpha = 0,
    epochs = 4,
    batchSize = 32,
    lr = 3e-3,
    weightDecay = 0.01,
    warmup = 0.1,
    seed = env.seed,
    runDir = null,
    showProgress = env.progress,
    onEpoch,
  } = opts;
  if (!LOSSES.includes(loss)) throw new Error(`unknown loss: ${loss} (expected ${LOSSES.join("|")})`);
  if (!SAMPLINGS.includes(sampling)) throw new Error(`unknown sampling: ${sampling} (expected ${SAMPLINGS.join("|")})`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (!(warmup >= 0 && warmup < 1)) throw new Error(`warmup must be a fraction in [0, 1), got ${warmup}`);
  checkInputs(inputs, train, valid);
  const t0 = Date.now();
  const C = inputs.numClasses;
  const trainCounts = new Int32Array(C);
  for (const i of train) trainCounts[inputs.labels[i]!]!++;
  const cw = classWeights(trainCounts, weights, {
    alpha: weightAlpha,
    beta: weightBeta,
  });

  const built = buildMatchModel({
    image: inputs.images
      ? {
          encoder: "resnet",
          size: inputs.images.size,
          widths: imageWidths,
          blocks: 1,
          pooling: "gap",
        }
      : { encoder: "none" },
    text: {
      encoder: "transformer",
      vocab: inputs.vocab,
      maxLen: inputs.maxLen,
      width,
      layers: 1,
      heads,
    },
    fusion: inputs.images ? { kind: fusion, layers: 1, width, heads } : { kind: "none" },
    embeddingDim,
    seed,
  });
  const model = built.model;
  const branch = built.branches.indexOf(inputs.images ? "fused" : "text");
  const headLayer = makeHead(head, {
    classes: C,
    seed: seed + 7919,
    name: `classify_${head}`,
  });
  const margin = head !== "softmax";
  tf.tidy(() => {
    headLayer.apply(tf.zeros([1, embeddingDim]));
  });
  const params: NamedParam[] = [...model.trainableWeights, ...headLayer.trainableWeights].map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable })); // stable names (as in src/train/task.ts), so the weights hash compares across runs in one process
  const nParams = params.reduce((a, p) => a + p.variable.size, 0);
  const cwTensor = tf.tensor1d(Array.from(cw), "float32");

  const source: BatchSource = {
    size: train.length,
    makeBatch(rows: Int32Array): Batch {
      const trows = rows.map((r) => train[r]!);
      return { ...gatherRows(inputs, trows), indices: trows };
    },
  };
  const data =
    sampling === "class_balanced"
      ? balancedBatchSource(
          source,
          classBalancedSampler(
            Array.from(train, (i) => inputs.labels[i]!),
            { alpha: samplingAlpha, seed },
          ),
        )
      : source;
  const bs = Math.min(batchSize, data.size);
  const stepsPerEpoch = Math.floor(data.size / bs);
  const totalSteps = stepsPerEpoch * epochs;
  const optimizer = adamW(params, { lr, weightDecay });
  const schedule = lrSchedule({
    kind: "linear",
    warmupSteps: Math.round(warmup * totalSteps),
    totalSteps,
  });

  const logits = (emb: tf.Tensor, labels: tf.Tensor | null, training: boolean) =>
    headLayer.apply(margin && labels ? [emb, labels] : emb, {
      training,
    }) as tf.Tensor;

  const predict = (rows: Int32Array): { probs: Float32Array; loss: number } => {
    const probs = new Float32Array(rows.length * C);
    let lossSum = 0;
    for (let s = 0; s < rows.length; s += 256) {
      const chunk = rows.subarray(s, Math.min(rows.length, s + 256));
      const { inputs: xs, labels } = gatherRows(inputs, chunk);
      const [p, l] = tf.tidy(() => {
        const outs = asList(model.apply(xs, { training: false }));
        const z = logits(outs[branch]!, null, false);
        return [tf.softmax(z as tf.Tensor2D), crossEntropyLoss(z, labels).sum()];
      });
      probs.set(p!.dataSync() as Float32Array, s * C);
      lossSum += l!.dataSync()[0]!;
      tf.dispose([p!, l!, ...xs, labels]);
    }
    return { probs, loss: lossSum / rows.length };
  };

  // training metrics from the batches' own logits, as the VQA notes logged them
  let epochScores: number[] = [];
  let epochLabels: number[] = [];
  let epochLoss = 0;
  let epochBatches = 0;
  const history: Record<string, number>[] = [];
  let lastVal: ClassificationMetrics | null = null;
  const bar = showProgress
    ? progress({
        label: `classify (${inputs.images ? fusion : "text"}, ${weights})`,
        total: totalSteps,
      })
    : null;
  const collect: Callback = {
    beforeEpoch() {
      epochScores = [];
      epochLabels = [];
      epochLoss = 0;
      epochBatches = 0;
    },
    afterBatch(l) {
      const z = l.outputs.logits;
      if (z) for (const v of z.dataSync()) epochScores.push(v);
      for (const v of l.batch!.labels.dataSync()) epochLabels.push(v);
      epochLoss += l.loss;
      epochBatches++;
      bar?.tick(1, `loss ${l.loss.toFixed(3)}`);
    },
    afterEpoch(l) {
      const tr = classificationMetrics(epochLabels, epochScores, C, epochLoss / Math.max(1, epochBatches));
      const row = classifyMetricsRow(l.epoch + 1, tr, lastVal!);
      history.push(row);
      if (runDir)
        writeFileAtomicSync(
          path.join(runDir, "metrics.csv"),
          formatCsv(
            CLASSIFY_METRICS_COLUMNS,
            history.map((h) => CLASSIFY_METRICS_COLUMNS.map((c) => h[c])),
          ),
        );
      onEpoch?.(row);
    },
  };
  let valProbs = new Float32Array(0);
  const yValid = Array.from(valid, (i) => inputs.labels[i]!);
  const learnerObj = new Learner({
    params,
    data,
    optimizer,
    batchSize: bs,
    epochs,
    seed,
    schedule,
    forward: (batch) => {
      const outs = asList(model.apply(batch.inputs, { training: true }));
      const z = logits(outs[branch]!, batch.labels, true);
      const per = loss === "focal" ? focalLoss(z, batch.labels, { gamma, labelSmoothing }) : crossEntropyLoss(z, batch.labels, { labelSmoothing });
      const w = tf.gather(cwTensor, batch.labels.toInt());
      return {
        loss: reduceLoss(per, "mean", w) as tf.Scalar,
        outputs: { logits: z },
      };
    },
    validate: async () => {
      const { probs, loss: vl } = predict(valid);
      valProbs = probs;
      lastVal = classificationMetrics(yValid, probs, C, vl);
      return Object.fromEntries(Object.entries(lastVal).map(([k, v]) => [`val_${k}`, v]));
    },
    callbacks: [collect],
  });
  if (runDir) mkdirSync(runDir, { recursive: true });
  let sha = "";
  try {
    await learnerObj.fit();
    sha = weightsSha256(params);
  } finally {
    bar?.finish();
    cwTensor.dispose();
    optimizer.dispose?.();
    model.dispose();
    headLayer.dispose();
  }
  const result: ClassifierResult = {
    history,
    val: lastVal!,
    valPred: argmaxRows(valProbs, C),
    valProbs,
    classWeights: cw,
    trainCounts,
    steps: learnerObj.step,
    params: nParams,
    paramTensors: params.length,
    seconds: (Date.now() - t0) / 1000,
    weightsSha256: sha,
  };
  if (runDir) {
    const summary = {
      task: "classify",
      steps: result.steps,
      params: nParams,
      seconds: result.seconds,
      val: result.val,
      options: { ...opts, onEpoch: undefined },
    };
    writeFileAtomicSync(path.join(runDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  }
  return result;
}
