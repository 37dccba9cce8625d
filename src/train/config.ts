/**
 * Run configs: YAML files validated against a schema. Unknown keys and bad values are rejected
 * with a message naming the key and the allowed values; every key has a documented default.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import { encoderSource } from "../embeddings/registry";

/** A leaf in the schema. */
type Leaf =
  | { type: "int"; default: number; min?: number; max?: number; doc: string }
  | { type: "number"; default: number; min?: number; max?: number; doc: string }
  | { type: "string"; default: string; doc: string }
  | { type: "bool"; default: boolean; doc: string }
  | { type: "enum"; default: string; values: readonly string[]; doc: string }
  | { type: "int[]"; default: number[]; doc: string }
  | { type: "encoders"; default: string[]; doc: string }
  | { type: "groups"; default: { match: string; lr: number; weight_decay?: number }[]; doc: string }
  | { type: "heads"; default: Record<string, HeadConfig>; doc: string };

interface Section {
  [key: string]: Leaf | Section;
}

/** One head's config (on a branch). */
export interface HeadConfig {
  kind: string;
  s: number;
  m: number;
  k: number;
  easy_margin: boolean;
  weight: number;
}

const HEAD_KINDS = Object.freeze(["softmax", "arcface", "cosface", "adacos", "subcenter_arcface"]);
const HEAD_KEYS: Record<keyof HeadConfig, Leaf> = {
  kind: { type: "enum", default: "arcface", values: HEAD_KINDS, doc: "head type" },
  s: { type: "number", default: 30, min: 0, doc: "scale" },
  m: { type: "number", default: 0.2, min: 0, doc: "margin" },
  k: { type: "int", default: 3, min: 1, doc: "sub-centres (subcenter_arcface)" },
  easy_margin: { type: "bool", default: false, doc: "ArcFace easy margin" },
  weight: { type: "number", default: 1, min: 0, doc: "loss weight of this head" },
};

/** The config schema: defaults and allowed values of every key. */
export const CONFIG_SCHEMA: Section = {
  name: { type: "string", default: "run", doc: "run name (prefix of run ids)" },
  seed: { type: "int", default: 0, min: 0, doc: "seed for init, batch order, dropout, augmentation" },
  backend: { type: "enum", default: "auto", values: ["auto", "tensorflow", "wasm", "cpu"], doc: "compute backend" },
  data: {
    dataset: { type: "string", default: "data/emoji-match-sample", doc: "dataset folder (relative to the project root)" },
    folds: { type: "int", default: 5, min: 2, doc: "group k-fold folds (by label_group)" },
    fold: { type: "int", default: 0, min: 0, doc: "validation fold" },
    image_size: { type: "int", default: 32, min: 8, max: 512, doc: "image side in pixels" },
    limit: { type: "int", default: 0, min: 0, doc: "use only the first N listings (0 = all)" },
    hflip: { type: "number", default: 0, min: 0, max: 1, doc: "horizontal-flip probability (seeded per epoch and row)" },
  },
  model: {
    input: { type: "enum", default: "raw", values: ["raw", "features"], doc: "raw: train the encoders below on pixels and titles; features: train embedding layers, fusion and heads on cached frozen-encoder features (model.encoders)" },
    encoders: { type: "encoders", default: [], doc: "frozen encoders whose cached features are the input (model.input: features), at most one image and one text encoder, e.g. [mobilenet-v2@96, use-lite]" },
    image: {
      encoder: { type: "enum", default: "resnet", values: ["resnet", "mobilenet_v2", "none"], doc: "image encoder" },
      alpha: { type: "number", default: 0.35, min: 0.05, max: 2, doc: "MobileNetV2 width multiplier" },
      widths: { type: "int[]", default: [16, 32, 64], doc: "ResNet stage widths" },
      blocks: { type: "int", default: 1, min: 1, doc: "ResNet blocks per stage" },
      pooling: { type: "enum", default: "gem", values: ["gap", "gem", "maxavg"], doc: "global pooling" },
    },
    text: {
      encoder: { type: "enum", default: "ngram", values: ["ngram", "transformer", "none"], doc: "text encoder" },
      dim: { type: "int", default: 1024, min: 16, doc: "hashed n-gram dimension" },
      vocab: { type: "int", default: 4096, min: 3, doc: "hashed token vocabulary (transformer)" },
      max_len: { type: "int", default: 16, min: 2, doc: "tokens per title (transformer)" },
      width: { type: "int", default: 64, min: 4, doc: "transformer width" },
      layers: { type: "int", default: 1, min: 1, doc: "transformer blocks" },
      heads: { type: "int", default: 4, min: 1, doc: "attention heads" },
    },
    fusion: {
      kind: { type: "enum", default: "concat", values: ["concat", "add", "residual", "transformer", "none"], doc: "fusion" },
      layers: { type: "int", default: 1, min: 1, doc: "cross-modal transformer blocks" },
      width: { type: "int", default: 64, min: 4, doc: "cross-modal width" },
      heads: { type: "int", default: 4, min: 1, doc: "attention heads" },
    },
    embedding_dim: { type: "int", default: 128, min: 2, doc: "embedding size of each branch" },
    dropout: { type: "number", default: 0, min: 0, max: 0.95, doc: "dropout before each embedding layer" },
  },
  heads: {
    type: "heads",
    default: { fused: { kind: "arcface", s: 30, m: 0.2, k: 3, easy_margin: false, weight: 1 } },
    doc: "a head per branch (image|text|fused): {kind, s, m, k, easy_margin, weight}",
  },
  loss: {
    kind: { type: "enum", default: "ce", values: ["ce", "focal"], doc: "classification loss on head logits" },
    label_smoothing: { type: "number", default: 0, min: 0, max: 0.99, doc: "label smoothing" },
    gamma: { type: "number", default: 2, min: 0, doc: "focal γ" },
    class_weights: { type: "enum", default: "none", values: ["none", "inverse", "inverse_sqrt", "effective_number", "power"], doc: "class weighting" },
    class_weight_beta: { type: "number", default: 0.999, min: 0, max: 0.999999, doc: "β of effective-number weighting" },
    class_weight_alpha: { type: "number", default: 0.5, min: 0, doc: "α of partial (power) weighting" },
    triplet_weight: { type: "number", default: 0, min: 0, doc: "weight of a batch-hard triplet loss on each headed branch" },
    triplet_margin: { type: "number", default: 0.2, min: 0, doc: "triplet margin" },
  },
  optim: {
    optimizer: { type: "enum", default: "adamw", values: ["adam", "adamw"], doc: "optimiser" },
    lr: { type: "number", default: 1e-3, min: 0, doc: "base learning rate" },
    weight_decay: { type: "number", default: 1e-4, min: 0, doc: "weight decay" },
    param_groups: { type: "groups", default: [], doc: "[{match: regex on parameter names, lr, weight_decay?}]" },
    batch_size: { type: "int", default: 32, min: 1, doc: "rows per micro-batch" },
    epochs: { type: "int", default: 10, min: 1, doc: "epochs" },
    schedule: { type: "enum", default: "cosine", values: ["constant", "cosine", "linear", "step"], doc: "LR schedule after warmup" },
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
    early_stopping_patience: { type: "int", default: 0, min: 0, doc: "stop after N validations without improvement (0 = off)" },
    early_stopping_min_delta: { type: "number", default: 0, min: 0, doc: "least improvement" },
    stop_on_nan: { type: "bool", default: true, doc: "stop when the loss is NaN" },
  },
  eval: {
    branch: { type: "enum", default: "fused", values: ["image", "text", "fused"], doc: "branch whose embeddings are matched" },
    knn: { type: "int", default: 50, min: 2, doc: "neighbours per posting" },
    batch_size: { type: "int", default: 128, min: 1, doc: "rows per inference batch" },
  },
};

/** A resolved config (every default filled in). */
export interface RunConfig {
  name: string;
  seed: number;
  backend: "auto" | "tensorflow" | "wasm" | "cpu";
  data: { dataset: string; folds: number; fold: number; image_size: number; limit: number; hflip: number };
  model: {
    input: "raw" | "features";
    encoders: string[];
    image: { encoder: "resnet" | "mobilenet_v2" | "none"; alpha: number; widths: number[]; blocks: number; pooling: "gap" | "gem" | "maxavg" };
    text: { encoder: "ngram" | "transformer" | "none"; dim: number; vocab: number; max_len: number; width: number; layers: number; heads: number };
    fusion: { kind: "concat" | "add" | "residual" | "transformer" | "none"; layers: number; width: number; heads: number };
    embedding_dim: number;
    dropout: number;
  };
  heads: Partial<Record<"image" | "text" | "fused", HeadConfig>>;
  loss: { kind: "ce" | "focal"; label_smoothing: number; gamma: number; class_weights: "none" | "inverse" | "inverse_sqrt" | "effective_number" | "power"; class_weight_beta: number; class_weight_alpha: number; triplet_weight: number; triplet_margin: number };
  optim: { optimizer: "adam" | "adamw"; lr: number; weight_decay: number; param_groups: { match: string; lr: number; weight_decay?: number }[]; batch_size: number; epochs: number; schedule: "constant" | "cosine" | "linear" | "step"; min_lr_factor: number; step_size: number; step_gamma: number };
  train: { max_iters: number; warmup_steps: number; max_grad_norm: number; gradient_accumulation_steps: number; ckpt_period: number; keep_checkpoints: number; log_period: number; evaluate_during_training: boolean; early_stopping_patience: number; early_stopping_min_delta: number; stop_on_nan: boolean };
  eval: { branch: "image" | "text" | "fused"; knn: number; batch_size: number };
}

/** Thrown for a bad config; the message names the key and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const isLeaf = (x: Leaf | Section): x is Leaf => typeof (x as Leaf).type === "string" && typeof (x as Leaf).doc === "string";
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function allowedText(l: Leaf): string {
  switch (l.type) {
    case "enum":
      return `one of ${l.values.join("|")}`;
    case "int":
    case "number": {
      const kind = l.type === "int" ? "an integer" : "a number";
      const range = l.min !== undefined && l.max !== undefined ? ` in [${l.min}, ${l.max}]` : l.min !== undefined ? ` >= ${l.min}` : l.max !== undefined ? ` <= ${l.max}` : "";
      return `${kind}${range}`;
    }
    case "string":
      return "a string";
    case "bool":
      return "true|false";
    case "int[]":
      return "a list of positive integers";
    case "encoders":
      return "a list of encoder ids <source>[@variant][:model], source one of mobilenet-v2|use-lite|hf-text|hf-image";
    case "groups":
      return "a list of {match: regex, lr: number, weight_decay?: number}";
    case "heads":
      return "a map from image|text|fused to {kind, s, m, k, easy_margin, weight}";
  }
}

function checkLeaf(key: string, l: Leaf, v: unknown, where: string): unknown {
  const bad = () => new ConfigError(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected ${allowedText(l)})`);
  switch (l.type) {
    case "int":
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v) || (l.type === "int" && !Number.isInteger(v))) throw bad();
      if ((l.min !== undefined && v < l.min) || (l.max !== undefined && v > l.max)) throw bad();
      return v;
    }
    case "string":
      if (typeof v !== "string") throw bad();
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "enum":
      if (typeof v !== "string" || !l.values.includes(v)) throw bad();
      return v;
    case "int[]":
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1)) throw bad();
      return v;
    case "encoders": {
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw bad();
      v.forEach((id: string, i) => {
        try {
          encoderSource(id);
        } catch (e) {
          throw new ConfigError(`${where}: bad value for ${key}[${i}]: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
      if (new Set(v).size !== v.length) throw new ConfigError(`${where}: ${key} lists an encoder twice: ${JSON.stringify(v)}`);
      return v;
    }
    case "groups": {
      if (!Array.isArray(v)) throw bad();
      return v.map((g, i) => {
        if (!isObj(g)) throw bad();
        for (const k of Object.keys(g)) if (!["match", "lr", "weight_decay"].includes(k)) throw new ConfigError(`${where}: unknown key ${key}[${i}].${k} (expected one of match|lr|weight_decay)`);
        if (typeof g.match !== "string") throw new ConfigError(`${where}: ${key}[${i}].match must be a string (a regular expression on parameter names)`);
        try {
          new RegExp(g.match);
        } catch {
          throw new ConfigError(`${where}: ${key}[${i}].match ${JSON.stringify(g.match)} is not a valid regular expression`);
        }
        if (typeof g.lr !== "number" || !(g.lr >= 0)) throw new ConfigError(`${where}: bad value for ${key}[${i}].lr: ${JSON.stringify(g.lr)} (expected a number >= 0)`);
        if (g.weight_decay !== undefined && (typeof g.weight_decay !== "number" || !(g.weight_decay >= 0))) throw new ConfigError(`${where}: bad value for ${key}[${i}].weight_decay: ${JSON.stringify(g.weight_decay)} (expected a number >= 0)`);
        return g;
      });
    }
    case "heads": {
      if (!isObj(v)) throw bad();
      const out: Record<string, HeadConfig> = {};
      for (const [branch, hv] of Object.entries(v)) {
        if (!["image", "text", "fused"].includes(branch)) throw new ConfigError(`${where}: unknown key ${key}.${branch} (expected one of image|text|fused)`);
        if (hv === null) continue; // `fused: null` removes a default head
        if (!isObj(hv)) throw new ConfigError(`${where}: ${key}.${branch} must be a map of {kind, s, m, k, easy_margin, weight}`);
        const h: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(hv)) {
          const leaf = (HEAD_KEYS as Record<string, Leaf>)[k];
          if (!leaf) throw new ConfigError(`${where}: unknown key ${key}.${branch}.${k} (expected one of ${Object.keys(HEAD_KEYS).join("|")})`);
          h[k] = checkLeaf(`${key}.${branch}.${k}`, leaf, x, where);
        }
        for (const [k, leaf] of Object.entries(HEAD_KEYS)) if (!(k in h)) h[k] = structuredClone(leaf.default);
        out[branch] = h as unknown as HeadConfig;
      }
      if (Object.keys(out).length === 0) throw new ConfigError(`${where}: ${key} must define at least one head (on image, text or fused)`);
      return out;
    }
  }
}

function resolveSection(schema: Section, value: unknown, prefix: string, where: string): Record<string, unknown> {
  if (value !== undefined && !isObj(value)) throw new ConfigError(`${where}: ${prefix || "the config"} must be a map, got ${JSON.stringify(value)}`);
  const v = (value ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!(k in schema)) throw new ConfigError(`${where}: unknown key ${prefix}${k} (expected one of ${Object.keys(schema).join("|")})`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema)) {
    if (isLeaf(s)) out[k] = v[k] === undefined ? structuredClone(s.default) : checkLeaf(`${prefix}${k}`, s, v[k], where);
    else out[k] = resolveSection(s, v[k], `${prefix}${k}.`, where);
  }
  return out;
}

/**
 * Validates a config object and fills in every default.
 * @example resolveConfig({ optim: { lr: 3e-4 } }).optim.batch_size // 32
 */
export function resolveConfig(raw: unknown, where = "config"): RunConfig {
  const c = resolveSection(CONFIG_SCHEMA, raw ?? {}, "", where) as unknown as RunConfig;
  if (c.data.fold >= c.data.folds) throw new ConfigError(`${where}: bad value for data.fold: ${c.data.fold} (expected an integer in [0, ${c.data.folds - 1}] for data.folds ${c.data.folds})`);
  checkFeatureInput(c, where);
  return c;
}

/** The modality (image|text) each of `model.encoders` reads, in order. */
export function featureEncoderModalities(c: RunConfig): ("image" | "text")[] {
  return c.model.encoders.map((id) => encoderSource(id).modality);
}

function checkFeatureInput(c: RunConfig, where: string): void {
  const m = c.model;
  if (m.input === "raw") {
    if (m.encoders.length > 0) throw new ConfigError(`${where}: model.encoders ${JSON.stringify(m.encoders)} is only read with model.input: features (set model.input: features, or remove model.encoders)`);
    return;
  }
  if (m.encoders.length === 0) throw new ConfigError(`${where}: model.input: features needs model.encoders, a list of encoder ids (e.g. [mobilenet-v2@96, use-lite])`);
  const mods = featureEncoderModalities(c);
  for (const mod of ["image", "text"] as const) {
    const ids = m.encoders.filter((_, i) => mods[i] === mod);
    if (ids.length > 1) throw new ConfigError(`${where}: model.encoders has ${ids.length} ${mod} encoders (${ids.join(", ")}); use at most one image and one text encoder`);
  }
  if (c.data.hflip > 0) throw new ConfigError(`${where}: data.hflip ${c.data.hflip} flips raw images, but model.input is features (cached embeddings); set data.hflip: 0`);
}

/** Reads and validates a YAML config file. */
export function loadConfig(file: string): RunConfig {
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const c = resolveConfig(raw, file);
  if (raw && isObj(raw) && raw.name === undefined) c.name = path.basename(file).replace(/\.ya?ml$/, "");
  return c;
}

/** Sets a dotted key (`train.max_iters`) from a CLI string, validated like the file. */
export function overrideConfig(c: RunConfig, dotted: string, text: string, where = "--flag"): RunConfig {
  const keys = dotted.split(".");
  let schema: Section | Leaf = CONFIG_SCHEMA;
  let target = c as unknown as Record<string, unknown>;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (isLeaf(schema as Leaf) || !(k in (schema as Section))) throw new ConfigError(`${where}: unknown key ${dotted}`);
    schema = (schema as Section)[k]!;
    if (i < keys.length - 1) target = target[k] as Record<string, unknown>;
  }
  if (!isLeaf(schema as Leaf)) throw new ConfigError(`${where}: ${dotted} is a section, not a value`);
  const leaf = schema as Leaf;
  let v: unknown = text;
  if (leaf.type === "int" || leaf.type === "number") {
    v = text.trim() === "" ? Number.NaN : Number(text);
    if (Number.isNaN(v)) throw new ConfigError(`${where}: bad value for ${dotted}: ${JSON.stringify(text)} (expected ${allowedText(leaf)})`);
  }
  else if (leaf.type === "bool") v = text === "true" || text === "" ? true : text === "false" ? false : text;
  else if (leaf.type !== "string" && leaf.type !== "enum") v = yaml.load(text);
  target[keys[keys.length - 1]!] = checkLeaf(dotted, leaf, v, where);
  return c;
}

/** The config as YAML (for runs/<id>/config.yaml). */
export function configToYaml(c: RunConfig): string {
  return yaml.dump(c, { lineWidth: 120, noRefs: true });
}
