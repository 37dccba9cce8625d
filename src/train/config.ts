/**
 * Run configs: one YAML dialect for every task. The shared sections (data, model, heads, loss,
 * optim, train, eval) are defined here once; each task of the task table adds its own section
 * under its name (`match:`, `classify:`). A study adds `grid:` (dotted key → values). Validation,
 * defaults and dotted overrides come from the one config engine (src/config.ts); enum values come
 * from the registries themselves.
 */
import path from "node:path";
import { checkLeaf, ConfigError, configToYaml, isMap, type Leaf, leafAt, leafKeys, readYaml, resolveSection, type Section, setConfigKey } from "../config";
import { centerCrop } from "../augment/center_crop";
import { compose, TRANSFORMS, transformFromSpec } from "../augment/compose";
import type { Transform } from "../augment/transform";
import { ON_BAD_ROW_NAMES, type OnBadRow } from "../data/dataset";
import { emptyImage } from "../data/image";
import { encoderSource } from "../embeddings/registry";
import { BACKENDS, type BackendName } from "../env";
import { HEAD_NAMES, type HeadName } from "../heads/index";
import { CLASS_WEIGHT_STRATEGIES, type ClassWeightStrategy } from "../losses/class_weights";
import { CLASSIFICATION_LOSSES, type ClassificationLossName } from "../losses/cross_entropy";
import { FUSIONS, type FusionName, TEXT_ENCODERS, type TextEncoderName } from "../models/multimodal";
import { POOLING_NAMES, type PoolingName } from "../models/pooling";
import { OPTIMIZER_KINDS, type OptimizerKind } from "./optimizer";
import { SAMPLINGS, type Sampling } from "./sampler";
import { SCHEDULE_KINDS, type ScheduleKind } from "./schedule";
import { TASK_SECTIONS, TASK_NAMES, type TaskName } from "./tasks/index";

export { ConfigError, configToYaml };

/** The branches a head can sit on. */
export const BRANCHES = Object.freeze(["image", "text", "fused"] as const);
/** A branch name. */
export type Branch = (typeof BRANCHES)[number];

/** One head's config (on a branch). */
export interface HeadConfig {
  kind: HeadName;
  s: number;
  m: number;
  m_start: number;
  m_warmup: number;
  k: number;
  easy_margin: boolean;
  weight: number;
}

const HEAD_SCHEMA: Section = Object.freeze({
  kind: { type: "enum", default: "arcface", values: HEAD_NAMES, doc: "head type" },
  s: { type: "number", default: 30, min: 0, doc: "scale" },
  m: { type: "number", default: 0.2, min: 0, doc: "margin (ArcFace: radians; CosFace: on the cosine); the final margin when m_warmup > 0" },
  m_start: { type: "number", default: 0, min: 0, doc: "margin at step 0 when m_warmup > 0 (arcface, subcenter_arcface, cosface)" },
  m_warmup: { type: "number", default: 0, min: 0, max: 1, doc: "fraction of the run's steps over which the margin ramps linearly from m_start to m (0 = m throughout)" },
  k: { type: "int", default: 3, min: 1, doc: "sub-centres per class, for subcenter_arcface only (arcface and cosface have one)" },
  easy_margin: { type: "bool", default: false, doc: "ArcFace easy margin" },
  weight: { type: "number", default: 1, min: 0, doc: "loss weight of this head" },
});

const headsLeaf: Leaf = {
  type: "custom",
  default: { fused: { kind: "arcface", s: 30, m: 0.2, m_start: 0, m_warmup: 0, k: 3, easy_margin: false, weight: 1 } },
  doc: "a head per branch (image|text|fused), each {kind, s, m, m_start, m_warmup, k, easy_margin, weight}; `fused: null` removes the default head",
  allowed: "a map from image|text|fused to {kind, s, m, m_start, m_warmup, k, easy_margin, weight}",
  check(v, key, where) {
    if (!isMap(v)) throw new ConfigError(`${where}: ${key} must be a map from image|text|fused to {kind, s, m, m_start, m_warmup, k, easy_margin, weight}, got ${JSON.stringify(v)}`, key);
    const out: Record<string, unknown> = {};
    for (const [branch, hv] of Object.entries(v)) {
      if (!(BRANCHES as readonly string[]).includes(branch)) throw new ConfigError(`${where}: unknown key ${key}.${branch} (expected one of ${BRANCHES.join("|")})`, `${key}.${branch}`);
      if (hv === null) continue;
      out[branch] = resolveSection(HEAD_SCHEMA, hv, where, `${key}.${branch}.`);
    }
    if (Object.keys(out).length === 0) throw new ConfigError(`${where}: ${key} must define at least one head (on image, text or fused)`, key);
    return out;
  },
};

const ENCODERS_ALLOWED = "a list of encoder ids <source>[@variant][:model], source one of mobilenet-v2|use-lite|hf-text|hf-image";

const encodersLeaf: Leaf = {
  type: "custom",
  default: [],
  doc: "frozen encoders whose cached features are the input (model.input: features), at most one image and one text encoder, e.g. [mobilenet-v2@96, use-lite]",
  allowed: ENCODERS_ALLOWED,
  check(v, key, where) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new ConfigError(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected ${ENCODERS_ALLOWED})`, key);
    v.forEach((id: string, i) => {
      try {
        encoderSource(id);
      } catch (e) {
        throw new ConfigError(`${where}: bad value for ${key}[${i}]: ${e instanceof Error ? e.message : String(e)}`, key);
      }
    });
    if (new Set(v).size !== v.length) throw new ConfigError(`${where}: ${key} lists an encoder twice: ${JSON.stringify(v)}`, key);
    return [...v];
  },
};

const groupsLeaf: Leaf = {
  type: "custom",
  default: [],
  doc: "parameter groups with their own learning rate: [{match: regex on parameter names, lr, weight_decay?}] (first match wins)",
  allowed: "a list of {match: regex, lr: number, weight_decay?: number}",
  check(v, key, where) {
    if (!Array.isArray(v)) throw new ConfigError(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected a list of {match: regex, lr: number, weight_decay?: number})`, key);
    return v.map((g, i) => {
      const at = `${key}[${i}]`;
      if (!isMap(g)) throw new ConfigError(`${where}: ${at} must be a map {match, lr, weight_decay?}, got ${JSON.stringify(g)}`, key);
      for (const k of Object.keys(g)) if (!["match", "lr", "weight_decay"].includes(k)) throw new ConfigError(`${where}: unknown key ${at}.${k} (expected one of match|lr|weight_decay)`, key);
      if (typeof g.match !== "string") throw new ConfigError(`${where}: ${at}.match must be a string (a regular expression on parameter names)`, key);
      try {
        new RegExp(g.match);
      } catch {
        throw new ConfigError(`${where}: ${at}.match ${JSON.stringify(g.match)} is not a valid regular expression`, key);
      }
      if (typeof g.lr !== "number" || !(g.lr >= 0)) throw new ConfigError(`${where}: bad value for ${at}.lr: ${JSON.stringify(g.lr)} (expected a number >= 0)`, key);
      if (g.weight_decay !== undefined && (typeof g.weight_decay !== "number" || !(g.weight_decay >= 0))) throw new ConfigError(`${where}: bad value for ${at}.weight_decay: ${JSON.stringify(g.weight_decay)} (expected a number >= 0)`, key);
      return { ...g };
    });
  },
};

const foldLeaf: Leaf = {
  type: "custom",
  default: 0,
  doc: "validation fold, or all: train on every row with no validation (a final model for predict; checkpoints by step)",
  allowed: "an integer >= 0, or all",
  check(v, key, where) {
    if (v === "all" || (typeof v === "number" && Number.isInteger(v) && v >= 0)) return v;
    throw new ConfigError(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected an integer >= 0, or all)`, key);
  },
};

/** The transforms `data.augment` may name (src/augment's registry, less compose). */
export const AUGMENT_NAMES: readonly string[] = Object.freeze(Object.keys(TRANSFORMS).filter((n) => n !== "compose"));

const augmentLeaf: Leaf = {
  type: "custom",
  default: [],
  doc: "training augmentations in order, each `- name: {options}` with the names and options of src/augment (e.g. - randomResizedCrop: {size: 24, scale: [0.6, 1]}); seeded per (seed, epoch, row); validation and predict use only the deterministic part (centre crop to image_size, normalize)",
  allowed: `a list of {transform: {options}}, transform one of ${AUGMENT_NAMES.join("|")}`,
  check(v, key, where) {
    if (!Array.isArray(v)) throw new ConfigError(`${where}: ${key} must be a list of {transform: {options}} (transform one of ${AUGMENT_NAMES.join("|")}), got ${JSON.stringify(v)}`, key);
    return v.map((item, i) => {
      const at = `${key}[${i}]`;
      const entries = isMap(item) ? Object.entries(item) : [];
      if (entries.length !== 1) throw new ConfigError(`${where}: ${at} must be one {transform: {options}} map, got ${JSON.stringify(item)}`, key);
      const [name, options] = entries[0]!;
      if (!AUGMENT_NAMES.includes(name)) throw new ConfigError(`${where}: unknown transform ${at}.${name} (expected one of ${AUGMENT_NAMES.join("|")})`, key);
      if (options !== null && !isMap(options)) throw new ConfigError(`${where}: ${at}.${name} must be a map of options, got ${JSON.stringify(options)}`, key);
      try {
        transformFromSpec({ name, options: (options ?? {}) as Record<string, unknown> });
      } catch (e) {
        throw new ConfigError(`${where}: bad options for ${at}.${name}: ${e instanceof Error ? e.message : String(e)}`, key);
      }
      return { [name]: options ?? {} };
    });
  },
};

/** Keys a grid may not vary: they define the rows and folds every arm shares. */
const FIXED_IN_GRID = Object.freeze(["task", "name", "data.dataset", "data.folds", "data.fold", "data.fold_seed", "data.limit", "classify.label"]);

const gridLeaf: Leaf = {
  type: "custom",
  default: {},
  doc: "a study grid: dotted key → list of values; `matchlab study` trains every combination on every fold (ignored by `matchlab train`, which refuses a config with a grid)",
  allowed: "a map of dotted config keys to non-empty lists of values",
  check(v, key, where) {
    if (!isMap(v)) throw new ConfigError(`${where}: ${key} must be a map of dotted key → list of values, got ${JSON.stringify(v)}`, key);
    for (const [k, vs] of Object.entries(v)) {
      const leaf = leafAt(RUN_SCHEMA, k);
      if (!leaf || k === "grid") throw new ConfigError(`${where}: unknown grid key ${k} (expected one of ${leafKeys(RUN_SCHEMA).filter((x) => x !== "grid").join("|")})`, `${key}.${k}`);
      if (FIXED_IN_GRID.includes(k)) throw new ConfigError(`${where}: grid key ${k} cannot vary within a study (rows and folds are shared by every arm; it may not be one of ${FIXED_IN_GRID.join("|")})`, `${key}.${k}`);
      if (!Array.isArray(vs) || vs.length === 0) throw new ConfigError(`${where}: ${key}.${k} must be a non-empty list of values`, `${key}.${k}`);
      for (const x of vs) checkLeaf(k, leaf, x, `${where}: ${key}.${k}`);
    }
    return structuredClone(v);
  },
};

/** The config schema: defaults, allowed values and docs of every key, for every task. */
export const RUN_SCHEMA: Section = Object.freeze({
  task: { type: "enum", default: "match", values: TASK_NAMES, doc: "what the run learns: match (groups of the same product; validation groups unseen) or classify (a label column)" },
  name: { type: "string", default: "run", doc: "run name (prefix of run ids; defaults to the config file's name)" },
  seed: { type: "int", default: 0, min: 0, doc: "seed for init, batch order, dropout, augmentation and sampling" },
  backend: { type: "enum", default: "auto", values: BACKENDS, doc: "compute backend" },
  data: {
    dataset: { type: "string", default: "data/emoji-match-sample", doc: "dataset folder (relative to the project root)" },
    folds: { type: "int", default: 5, min: 2, doc: "folds (match: group k-fold by label_group; classify: stratified by the label)" },
    fold: foldLeaf,
    fold_seed: { type: "int", default: 0, min: 0, doc: "shuffle seed of the folds (the same for every seed of a config, so seeds share folds)" },
    limit: { type: "int", default: 0, min: 0, doc: "use only the first N listings (0 = all)" },
    on_bad_row: { type: "enum", default: "error", values: ON_BAD_ROW_NAMES, doc: "a bad row (missing or undecodable image, empty title, …): error stops naming every one (line, posting_id, image); skip decodes every image up front, drops the bad rows and lists them (stderr and the run's bad_rows.csv)" },
    image_size: { type: "int", default: 32, min: 8, max: 512, doc: "image side in pixels" },
    augment: augmentLeaf,
    decode_size: { type: "int", default: 0, min: 0, max: 1024, doc: "side images are decoded (and cached) at before augmentation (0 = image_size); larger than image_size for random crops, then validation centre-crops" },
    num_workers: { type: "int", default: 0, min: 0, max: 16, doc: "worker threads that augment training batches ahead of the step (0 = on the main thread); batches are the same for any number" },
    prefetch: { type: "int", default: 2, min: 1, max: 64, doc: "training batches each worker works ahead" },
    tags: { type: "bool", default: false, doc: "append the listing's tags to the title the text encoder reads (needs a tags column)" },
    sampling: { type: "enum", default: "natural", values: SAMPLINGS, doc: "training rows: natural (each once per epoch) or class_balanced (class c drawn ∝ n_c^sampling_alpha)" },
    sampling_alpha: { type: "number", default: 0, min: 0, doc: "α of class-balanced sampling (0 = classes uniform, 1 = natural)" },
  },
  model: {
    input: { type: "enum", default: "raw", values: ["raw", "features"], doc: "raw: train the encoders below on pixels and titles; features: train embedding layers, fusion and heads on cached frozen-encoder features (model.encoders)" },
    encoders: encodersLeaf,
    image: {
      encoder: { type: "enum", default: "resnet", values: ["resnet", "mobilenet_v2", "none"], doc: "image encoder" },
      alpha: { type: "number", default: 0.35, min: 0.05, max: 2, doc: "MobileNetV2 width multiplier" },
      widths: { type: "int[]", default: [16, 32, 64], doc: "ResNet stage widths" },
      blocks: { type: "int", default: 1, min: 1, doc: "ResNet blocks per stage" },
      pooling: { type: "enum", default: "gem", values: POOLING_NAMES, doc: "global pooling" },
      pretrained: { type: "bool", default: false, doc: "mobilenet_v2 only: start from the pretrained weights nsfwjs bundles (ImageNet, the later blocks tuned by nsfwjs; alpha 1.0, data.image_size a multiple of 32) and fine-tune them, BatchNorm on its pretrained statistics (frozen: small batches of another domain would otherwise train a function unlike the one evaluated); optim.param_groups can give the trunk its own LR" },
    },
    text: {
      encoder: {
        type: "enum",
        default: "ngram",
        values: TEXT_ENCODERS.filter((e) => e !== "features"),
        doc: "text encoder: ngram (hashed n-gram counts → dense), bag (learned vectors of hashed words and character 3–5-grams, averaged: fastText-style), transformer (over hashed word tokens), none",
      },
      dim: { type: "int", default: 1024, min: 16, doc: "hashed n-gram dimension (ngram)" },
      vocab: { type: "int", default: 4096, min: 3, doc: "hashed token / piece vocabulary (transformer, bag)" },
      max_len: { type: "int", default: 16, min: 2, doc: "tokens per title (transformer); pieces per title (bag: words first, then n-grams)" },
      width: { type: "int", default: 64, min: 4, doc: "transformer width; bag: each piece's vector width" },
      layers: { type: "int", default: 1, min: 1, doc: "transformer blocks" },
      heads: { type: "int", default: 4, min: 1, doc: "attention heads" },
    },
    fusion: {
      kind: { type: "enum", default: "concat", values: FUSIONS, doc: "how image and text combine" },
      layers: { type: "int", default: 1, min: 1, doc: "cross-modal transformer blocks" },
      width: { type: "int", default: 64, min: 4, doc: "cross-modal width" },
      heads: { type: "int", default: 4, min: 1, doc: "attention heads" },
    },
    embedding_dim: { type: "int", default: 128, min: 2, doc: "embedding size of each branch" },
    dropout: { type: "number", default: 0, min: 0, max: 0.95, doc: "dropout before each embedding layer" },
  },
  heads: headsLeaf,
  loss: {
    kind: { type: "enum", default: "ce", values: Object.keys(CLASSIFICATION_LOSSES), doc: "loss on head logits (ce: softmax cross-entropy; focal)" },
    label_smoothing: { type: "number", default: 0, min: 0, max: 0.99, doc: "label smoothing" },
    gamma: { type: "number", default: 2, min: 0, doc: "focal γ" },
    class_weights: { type: "enum", default: "none", values: CLASS_WEIGHT_STRATEGIES, doc: "class weighting from the training rows' class counts; a batch's loss is Σ w_y·l / Σ w_y (a weighted mean, as PyTorch's CrossEntropyLoss(weight=…))" },
    class_weight_beta: { type: "number", default: 0.999, min: 0, max: 0.999999, doc: "β of effective-number weighting" },
    class_weight_alpha: { type: "number", default: 0.5, min: 0, doc: "α of partial (power) weighting 1/n^α" },
    triplet_weight: { type: "number", default: 0, min: 0, doc: "weight of a batch-hard triplet loss on each headed branch" },
    triplet_margin: { type: "number", default: 0.2, min: 0, doc: "triplet margin" },
  },
  optim: {
    optimizer: { type: "enum", default: "adamw", values: OPTIMIZER_KINDS, doc: "optimiser" },
    lr: { type: "number", default: 1e-3, min: 0, doc: "base learning rate" },
    weight_decay: { type: "number", default: 1e-4, min: 0, doc: "weight decay" },
    param_groups: groupsLeaf,
    batch_size: { type: "int", default: 32, min: 1, doc: "rows per micro-batch" },
    epochs: { type: "int", default: 10, min: 1, doc: "epochs" },
    schedule: { type: "enum", default: "cosine", values: SCHEDULE_KINDS, doc: "LR schedule after warmup" },
    min_lr_factor: { type: "number", default: 0.01, min: 0, max: 1, doc: "final LR factor (cosine, linear)" },
    step_size: { type: "int", default: 1000, min: 1, doc: "steps between decays (step)" },
    step_gamma: { type: "number", default: 0.1, min: 0, doc: "decay factor (step)" },
  },
  train: {
    max_iters: { type: "int", default: 0, min: 0, doc: "stop after this many optimiser steps (0 = epochs decide)" },
    warmup_steps: { type: "int", default: 0, min: 0, doc: "linear LR warmup steps" },
    max_grad_norm: { type: "number", default: 0, min: 0, doc: "clip gradients to this global norm (0 = off)" },
    gradient_accumulation_steps: { type: "int", default: 1, min: 1, doc: "micro-batches per optimiser step" },
    ckpt_period: { type: "int", default: 0, min: 0, doc: "checkpoint every N optimiser steps (0 = epoch ends only)" },
    keep_checkpoints: { type: "int", default: 3, min: 1, doc: "periodic checkpoints to keep" },
    log_period: { type: "int", default: 20, min: 0, doc: "log every N optimiser steps (0 = off)" },
    evaluate_during_training: { type: "bool", default: false, doc: "also validate at every ckpt_period checkpoint" },
    early_stopping_patience: { type: "int", default: 0, min: 0, doc: "stop after N validations without improvement of the task's primary metric (0 = off)" },
    early_stopping_min_delta: { type: "number", default: 0, min: 0, doc: "least improvement" },
    stop_on_nan: { type: "bool", default: true, doc: "stop the run as diverged after max_nonfinite_steps steps with a NaN or ±Inf loss or gradient norm (each is skipped before the optimiser step; false: skip them and go on)" },
    max_nonfinite_steps: { type: "int", default: 1, min: 1, doc: "non-finite (NaN or ±Inf loss or gradient norm) steps skipped before the run stops with status diverged (exit 3), its last good checkpoint kept" },
  },
  eval: {
    branch: { type: "enum", default: "fused", values: BRANCHES, doc: "the branch whose embeddings are matched (match) or whose head predicts (classify)" },
    batch_size: { type: "int", default: 128, min: 1, doc: "rows per inference batch" },
    oof_checkpoint: { type: "enum", default: "best", values: ["best", "last"], doc: "the weights a matching run embeds its validation rows with at the end (oof/<branch>.f32): best.ckpt (by the primary metric) or the last" },
  },
  ...TASK_SECTIONS,
  grid: gridLeaf,
});

/** A resolved config (every default filled in). */
export interface RunConfig {
  task: TaskName;
  name: string;
  seed: number;
  backend: BackendName;
  data: { dataset: string; folds: number; fold: number | "all"; fold_seed: number; limit: number; on_bad_row: OnBadRow; image_size: number; augment: Record<string, Record<string, unknown>>[]; decode_size: number; num_workers: number; prefetch: number; tags: boolean; sampling: Sampling; sampling_alpha: number };
  model: {
    input: "raw" | "features";
    encoders: string[];
    image: { encoder: "resnet" | "mobilenet_v2" | "none"; alpha: number; widths: number[]; blocks: number; pooling: PoolingName; pretrained: boolean };
    text: { encoder: Exclude<TextEncoderName, "features">; dim: number; vocab: number; max_len: number; width: number; layers: number; heads: number };
    fusion: { kind: FusionName; layers: number; width: number; heads: number };
    embedding_dim: number;
    dropout: number;
  };
  heads: Partial<Record<Branch, HeadConfig>>;
  loss: { kind: ClassificationLossName; label_smoothing: number; gamma: number; class_weights: ClassWeightStrategy; class_weight_beta: number; class_weight_alpha: number; triplet_weight: number; triplet_margin: number };
  optim: { optimizer: OptimizerKind; lr: number; weight_decay: number; param_groups: { match: string; lr: number; weight_decay?: number }[]; batch_size: number; epochs: number; schedule: ScheduleKind; min_lr_factor: number; step_size: number; step_gamma: number };
  train: { max_iters: number; warmup_steps: number; max_grad_norm: number; gradient_accumulation_steps: number; ckpt_period: number; keep_checkpoints: number; log_period: number; evaluate_during_training: boolean; early_stopping_patience: number; early_stopping_min_delta: number; stop_on_nan: boolean; max_nonfinite_steps: number };
  eval: { branch: Branch; batch_size: number; oof_checkpoint: "best" | "last" };
  match: { knn: number };
  classify: { label: string };
  grid: Record<string, unknown[]>;
}

/** The modality (image|text) each of `model.encoders` reads, in order. */
export function featureEncoderModalities(c: RunConfig): ("image" | "text")[] {
  return c.model.encoders.map((id) => encoderSource(id).modality);
}

/** The decode side of a config's images (data.decode_size, or image_size when 0). */
export function decodeSize(c: RunConfig): number {
  return c.data.decode_size || c.data.image_size;
}

/** The training augmentation of a config (null without data.augment). */
export function augmentPipeline(c: RunConfig): Transform | null {
  return c.data.augment.length ? compose(c.data.augment.map((t) => transformFromSpec({ name: Object.keys(t)[0]!, options: Object.values(t)[0]! }))) : null;
}

/** The deterministic transform of validation, embedding and predict: centre crop to image_size (when decoded larger), then data.augment's normalize steps; null when there is nothing to do. */
export function evalPipeline(c: RunConfig): Transform | null {
  const steps: Transform[] = [];
  if (decodeSize(c) !== c.data.image_size) steps.push(centerCrop({ size: c.data.image_size }));
  for (const t of c.data.augment) if (Object.keys(t)[0] === "normalize") steps.push(transformFromSpec({ name: "normalize", options: Object.values(t)[0]! }));
  return steps.length ? compose(steps) : null;
}

/** data.augment must turn a decoded image into the model's input size. */
function checkAugment(c: RunConfig, where: string): void {
  const d = decodeSize(c);
  if (d < c.data.image_size) throw new ConfigError(`${where}: data.decode_size ${d} is smaller than data.image_size ${c.data.image_size} (decode at least at the model's size)`, "data.decode_size");
  const pipe = augmentPipeline(c);
  if (pipe) {
    const out = pipe.run(emptyImage(d, d), { seed: 0, epoch: 0, index: 0 }).image;
    if (out.height !== c.data.image_size || out.width !== c.data.image_size) throw new ConfigError(`${where}: data.augment turns a ${d}×${d} decoded image into ${out.height}×${out.width}, but data.image_size is ${c.data.image_size} (end the list with a crop or resize to ${c.data.image_size}, or set data.decode_size)`, "data.augment");
  }
}

/** Checks that span keys (run after every change, so an override cannot slip past them). */
function checkConfig(c: RunConfig, raw: Record<string, unknown>, where: string): void {
  if (c.data.fold !== "all" && c.data.fold >= c.data.folds) throw new ConfigError(`${where}: bad value for data.fold: ${c.data.fold} (expected an integer in [0, ${c.data.folds - 1}] for data.folds ${c.data.folds})`, "data.fold");
  for (const t of TASK_NAMES) {
    if (t !== c.task && raw[t] !== undefined) throw new ConfigError(`${where}: section ${t} applies to task: ${t} only (this config's task is ${c.task})`, t);
  }
  const m = c.model;
  if (m.input === "raw") {
    if (m.encoders.length > 0) throw new ConfigError(`${where}: model.encoders ${JSON.stringify(m.encoders)} is only read with model.input: features (set model.input: features, or remove model.encoders)`, "model.encoders");
    if (m.image.encoder === "none" && m.text.encoder === "none") throw new ConfigError(`${where}: model.image.encoder and model.text.encoder are both none (the model needs an input)`, "model.image.encoder");
    checkAugment(c, where);
    if (m.image.pretrained) {
      if (m.image.encoder !== "mobilenet_v2") throw new ConfigError(`${where}: model.image.pretrained needs model.image.encoder: mobilenet_v2 (the pretrained weights are MobileNetV2's), got ${m.image.encoder}`, "model.image.pretrained");
      if (m.image.alpha !== 1) throw new ConfigError(`${where}: model.image.pretrained needs model.image.alpha: 1 (the bundled MobileNetV2 weights are alpha 1.0), got ${m.image.alpha}`, "model.image.alpha");
      if (c.data.image_size % 32 !== 0) throw new ConfigError(`${where}: model.image.pretrained needs data.image_size a multiple of 32 (so that every stride-2 layer pads as the pretrained network did), got ${c.data.image_size}`, "data.image_size");
    }
    const both = m.image.encoder !== "none" && m.text.encoder !== "none";
    if (m.fusion.kind !== "none" && !both) throw new ConfigError(`${where}: model.fusion.kind ${m.fusion.kind} needs both an image and a text encoder (set model.fusion.kind: none)`, "model.fusion.kind");
    if (m.fusion.kind === "transformer" && m.text.encoder !== "transformer") throw new ConfigError(`${where}: model.fusion.kind transformer needs model.text.encoder: transformer (it attends over text tokens)`, "model.fusion.kind");
    return;
  }
  if (m.encoders.length === 0) throw new ConfigError(`${where}: model.input: features needs model.encoders, a list of encoder ids (e.g. [mobilenet-v2@96, use-lite])`, "model.encoders");
  const mods = featureEncoderModalities(c);
  for (const mod of ["image", "text"] as const) {
    const ids = m.encoders.filter((_, i) => mods[i] === mod);
    if (ids.length > 1) throw new ConfigError(`${where}: model.encoders has ${ids.length} ${mod} encoders (${ids.join(", ")}); use at most one image and one text encoder`, "model.encoders");
  }
  if (c.data.augment.length > 0) throw new ConfigError(`${where}: data.augment transforms raw images, but model.input is features (cached embeddings); remove data.augment`, "data.augment");
  if (m.fusion.kind === "transformer") throw new ConfigError(`${where}: model.fusion.kind transformer needs an image feature map and text tokens, not cached features (use concat, add or residual)`, "model.fusion.kind");
  if (m.fusion.kind !== "none" && mods.length < 2) throw new ConfigError(`${where}: model.fusion.kind ${m.fusion.kind} needs an image and a text encoder in model.encoders (set model.fusion.kind: none)`, "model.fusion.kind");
}

/**
 * Validates a config object and fills in every default.
 * @example resolveConfig({ task: "classify", optim: { lr: 3e-4 } }).optim.batch_size // 32
 */
export function resolveConfig(raw: unknown, where = "config"): RunConfig {
  const c = resolveSection(RUN_SCHEMA, raw, where) as unknown as RunConfig;
  checkConfig(c, isMap(raw) ? raw : {}, where);
  return c;
}

/** Reads and validates a YAML config file (the name defaults to the file's). */
export function loadConfig(file: string): RunConfig {
  const raw = readYaml(file);
  const c = resolveConfig(raw, file);
  if (!(isMap(raw) && Object.hasOwn(raw, "name"))) c.name = path.basename(file).replace(/\.ya?ml$/, "");
  return c;
}

/**
 * A copy of `c` with a dotted key set: from command-line text (parsed by the key's type) or from a
 * value (`{ value }`), validated like the file.
 * @example overrideConfig(cfg, "optim.lr", "3e-4", "--lr")
 */
export function overrideConfig(c: RunConfig, dotted: string, value: string | { value: unknown }, where = "--set"): RunConfig {
  if (dotted === "grid") throw new ConfigError(`${where}: grid is set in the config file, not from the command line`, "grid");
  const out = setConfigKey(RUN_SCHEMA, c, dotted, value, where);
  checkConfig(out, {}, where);
  return out;
}

/** The config as YAML for runs/<id>/config.yaml: without the study grid and the other tasks' sections. */
export function runConfigYaml(c: RunConfig): string {
  const out: Record<string, unknown> = { ...c };
  delete out.grid;
  for (const t of TASK_NAMES) if (t !== c.task) delete out[t];
  return configToYaml(out);
}

/** Keys a resumed run may change: how long it trains (noted), and how it logs, checkpoints and runs (silently). */
const RESUME_SCHEDULE_KEYS = Object.freeze(["optim.epochs", "train.max_iters"]);
const RESUME_FREE_KEYS = Object.freeze(["name", "backend", "grid", "train.log_period", "train.ckpt_period", "train.keep_checkpoints", "train.evaluate_during_training", "train.max_nonfinite_steps", "eval.batch_size", "eval.oof_checkpoint"]);

/** How a config differs from the one a run started with: keys that may change (schedule length, noted) and keys that may not. */
export interface ResumeDiff {
  /** Schedule-length keys that changed: [key, before, now]. */
  schedule: [string, unknown, unknown][];
  /** Model, data, task or optimisation keys that changed: [key, before, now]; a resume refuses them. */
  refused: [string, unknown, unknown][];
}

/**
 * Compares a resumed run's config with the config it started with, key by key.
 * @example resumeDiff(runConfig(runsDir, id), cfg).refused // [] when the resume may go on
 */
export function resumeDiff(before: RunConfig, now: RunConfig): ResumeDiff {
  const out: ResumeDiff = { schedule: [], refused: [] };
  const at = (c: RunConfig, key: string) => key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
  for (const key of leafKeys(RUN_SCHEMA)) {
    if (RESUME_FREE_KEYS.includes(key)) continue;
    const [a, b] = [at(before, key), at(now, key)];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    (RESUME_SCHEDULE_KEYS.includes(key) ? out.schedule : out.refused).push([key, a, b]);
  }
  return out;
}
