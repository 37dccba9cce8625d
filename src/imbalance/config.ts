/**
 * Classification study configs (configs/study*.yaml): a base classifier config and a grid of
 * dotted keys to vary (`model.fusion: [concat, transformer]`, `data.tags: [false, true]`). Unknown
 * keys and bad values are rejected naming the key and what is allowed; every key has a default.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import type { HeadName } from "../heads/index";
import type { ClassWeightStrategy } from "../losses/class_weights";
import type { FusionName } from "../models/multimodal";
import type { ClassifierLoss, ClassifierSampling, TrainClassifierOptions } from "./trainer";

type Leaf =
  | { type: "int"; default: number; min: number; doc: string }
  | { type: "number"; default: number; min: number; max?: number; doc: string }
  | { type: "string"; default: string; doc: string }
  | { type: "bool"; default: boolean; doc: string }
  | { type: "enum"; default: string; values: readonly string[]; doc: string }
  | { type: "int[]"; default: number[]; doc: string };
type Section = { [key: string]: Leaf | Section };

/** The schema of a classification config: defaults and allowed values of every key. */
export const CLASSIFY_CONFIG_SCHEMA: Section = Object.freeze({
  task: {
    type: "enum",
    default: "classify",
    values: ["classify"],
    doc: "the task (`matchlab train` routes a config with task: classify to the classifier)",
  },
  name: {
    type: "string",
    default: "study",
    doc: "study name (prefix of the run folder)",
  },
  seed: {
    type: "int",
    default: 0,
    min: 0,
    doc: "seed for init, batch order and sampling",
  },
  data: {
    dataset: {
      type: "string",
      default: "",
      doc: "dataset folder relative to the project root ('' = env.dataset)",
    },
    label: {
      type: "string",
      default: "subgroup",
      doc: "the column whose values are the classes",
    },
    tags: {
      type: "bool",
      default: false,
      doc: "append the listing's tags to the title",
    },
    folds: {
      type: "int",
      default: 3,
      min: 2,
      doc: "stratified k-fold folds (by label)",
    },
    fold: {
      type: "int",
      default: 0,
      min: 0,
      doc: "validation fold of a single run (`matchlab train --task classify`); studies train folds 0..run_folds-1",
    },
    run_folds: {
      type: "int",
      default: 0,
      min: 0,
      doc: "folds actually trained (0 = all)",
    },
    fold_seed: {
      type: "int",
      default: 0,
      min: 0,
      doc: "shuffle seed of the folds",
    },
    limit: {
      type: "int",
      default: 0,
      min: 0,
      doc: "use only the first N listings (0 = all)",
    },
    image_size: {
      type: "int",
      default: 32,
      min: 8,
      doc: "image side in pixels (0 images: set model.image false)",
    },
    vocab: {
      type: "int",
      default: 4096,
      min: 3,
      doc: "hashed token vocabulary",
    },
    max_len: { type: "int", default: 24, min: 2, doc: "tokens per text" },
  },
  model: {
    image: {
      type: "bool",
      default: true,
      doc: "use the image (false = text only)",
    },
    fusion: {
      type: "enum",
      default: "concat",
      values: ["concat", "add", "residual", "transformer"],
      doc: "how image and text combine",
    },
    image_widths: {
      type: "int[]",
      default: [8, 16, 32],
      doc: "ResNet stage widths",
    },
    width: {
      type: "int",
      default: 32,
      min: 4,
      doc: "text and fusion transformer width",
    },
    heads: { type: "int", default: 2, min: 1, doc: "attention heads" },
    embedding_dim: { type: "int", default: 64, min: 2, doc: "embedding size" },
    head: {
      type: "enum",
      default: "softmax",
      values: ["softmax", "arcface", "cosface", "adacos", "subcenter_arcface"],
      doc: "classification head",
    },
  },
  loss: {
    kind: {
      type: "enum",
      default: "ce",
      values: ["ce", "focal"],
      doc: "cross-entropy or focal",
    },
    gamma: { type: "number", default: 2, min: 0, doc: "focal γ" },
    label_smoothing: {
      type: "number",
      default: 0,
      min: 0,
      max: 0.99,
      doc: "label smoothing",
    },
    class_weights: {
      type: "enum",
      default: "none",
      values: ["none", "inverse", "inverse_sqrt", "effective_number", "power"],
      doc: "class weighting",
    },
    class_weight_alpha: {
      type: "number",
      default: 0.5,
      min: 0,
      doc: "α of partial (power) weighting",
    },
    class_weight_beta: {
      type: "number",
      default: 0.999,
      min: 0,
      max: 0.999999,
      doc: "β of effective-number weighting",
    },
  },
  sampling: {
    kind: {
      type: "enum",
      default: "natural",
      values: ["natural", "class_balanced"],
      doc: "row sampling",
    },
    alpha: {
      type: "number",
      default: 0,
      min: 0,
      doc: "class-balanced power α (0 = uniform over classes)",
    },
  },
  optim: {
    lr: { type: "number", default: 3e-3, min: 0, doc: "peak learning rate" },
    weight_decay: {
      type: "number",
      default: 0.01,
      min: 0,
      doc: "AdamW weight decay",
    },
    warmup: {
      type: "number",
      default: 0.1,
      min: 0,
      max: 0.99,
      doc: "warmup fraction of the steps (linear schedule)",
    },
    batch_size: { type: "int", default: 32, min: 1, doc: "rows per batch" },
    epochs: { type: "int", default: 4, min: 1, doc: "epochs" },
  },
}) as Section;

/** A resolved classification config. */
export interface ClassifyConfig {
  task: "classify";
  name: string;
  seed: number;
  data: {
    dataset: string;
    label: string;
    tags: boolean;
    folds: number;
    fold: number;
    run_folds: number;
    fold_seed: number;
    limit: number;
    image_size: number;
    vocab: number;
    max_len: number;
  };
  model: {
    image: boolean;
    fusion: FusionName;
    image_widths: number[];
    width: number;
    heads: number;
    embedding_dim: number;
    head: HeadName;
  };
  loss: {
    kind: "ce" | "focal";
    gamma: number;
    label_smoothing: number;
    class_weights: ClassWeightStrategy;
    class_weight_alpha: number;
    class_weight_beta: number;
  };
  sampling: { kind: ClassifierSampling; alpha: number };
  optim: {
    lr: number;
    weight_decay: number;
    warmup: number;
    batch_size: number;
    epochs: number;
  };
}

/** A study: a base config and the grid of values to try. */
export interface StudyConfig {
  base: ClassifyConfig;
  /** Dotted key → values, in file order (e.g. `model.fusion → [concat, transformer]`). */
  grid: [string, Array<string | number | boolean>][];
}

const isLeaf = (x: Leaf | Section): x is Leaf => typeof (x as Leaf).type === "string" && typeof (x as Leaf).doc === "string";
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function allowed(l: Leaf): string {
  switch (l.type) {
    case "enum":
      return `one of ${l.values.join("|")}`;
    case "int":
      return `an integer >= ${l.min}`;
    case "number":
      return `a number >= ${l.min}${l.max !== undefined ? ` and <= ${l.max}` : ""}`;
    case "string":
      return "a string";
    case "bool":
      return "true|false";
    case "int[]":
      return "a non-empty list of positive integers";
  }
}

function checkLeaf(key: string, l: Leaf, v: unknown, where: string): unknown {
  const ok = (() => {
    switch (l.type) {
      case "int":
        return typeof v === "number" && Number.isInteger(v) && v >= l.min;
      case "number":
        return typeof v === "number" && Number.isFinite(v) && v >= l.min && (l.max === undefined || v <= l.max);
      case "string":
        return typeof v === "string";
      case "bool":
        return typeof v === "boolean";
      case "enum":
        return typeof v === "string" && l.values.includes(v);
      case "int[]":
        return Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 1);
    }
  })();
  if (!ok) throw new Error(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected ${allowed(l)})`);
  return v;
}

function resolveSection(schema: Section, value: unknown, prefix: string, where: string): Record<string, unknown> {
  if (value !== undefined && !isObj(value)) throw new Error(`${where}: ${prefix ? prefix.slice(0, -1) : "the config"} must be a map, got ${JSON.stringify(value)}`);
  const v = (value ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!(k in schema)) throw new Error(`${where}: unknown key ${prefix}${k} (expected one of ${Object.keys(schema).join("|")})`);
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema)) {
    if (isLeaf(s)) out[k] = v[k] === undefined ? structuredClone(s.default) : checkLeaf(`${prefix}${k}`, s, v[k], where);
    else out[k] = resolveSection(s, v[k], `${prefix}${k}.`, where);
  }
  return out;
}

function leafAt(dotted: string): Leaf | null {
  let s: Leaf | Section = CLASSIFY_CONFIG_SCHEMA;
  for (const k of dotted.split(".")) {
    if (isLeaf(s) || !(k in s)) return null;
    s = s[k]!;
  }
  return isLeaf(s) ? s : null;
}

/** All dotted leaf keys of the schema. */
function leafKeys(s: Section = CLASSIFY_CONFIG_SCHEMA, prefix = ""): string[] {
  return Object.entries(s).flatMap(([k, v]) => (isLeaf(v) ? [`${prefix}${k}`] : leafKeys(v, `${prefix}${k}.`)));
}

/**
 * Validates a classification config object and fills in every default.
 * @example resolveClassifyConfig({ loss: { class_weights: "inverse_sqrt" } }).optim.epochs // 4
 */
export function resolveClassifyConfig(raw: unknown, where = "config"): ClassifyConfig {
  const c = resolveSection(CLASSIFY_CONFIG_SCHEMA, raw ?? {}, "", where) as unknown as ClassifyConfig;
  if (!c.model.image && c.model.fusion !== "concat") throw new Error(`${where}: model.fusion ${c.model.fusion} needs model.image: true`);
  if (c.data.fold >= c.data.folds) throw new Error(`${where}: bad value for data.fold: ${c.data.fold} (expected an integer in [0, ${c.data.folds - 1}] for data.folds ${c.data.folds})`);
  return c;
}

/** Returns a copy of `c` with the dotted key set to `value` (validated). */
export function withConfigValue(c: ClassifyConfig, dotted: string, value: unknown, where = "config"): ClassifyConfig {
  const leaf = leafAt(dotted);
  if (!leaf) throw new Error(`${where}: unknown key ${dotted} (expected one of ${leafKeys().join("|")})`);
  const out = structuredClone(c) as unknown as Record<string, Record<string, unknown>>;
  const keys = dotted.split(".");
  let t: Record<string, unknown> = out;
  for (const k of keys.slice(0, -1)) t = t[k] as Record<string, unknown>;
  t[keys[keys.length - 1]!] = checkLeaf(dotted, leaf, value, where);
  return resolveClassifyConfig(out, where);
}

/**
 * Returns a copy of `c` with the dotted key set from command-line text, parsed by the key's type
 * (numbers, true|false, lists as YAML) and validated like the file.
 * @example setClassifyConfigKey(cfg, "optim.lr", "3e-4", "--set")
 */
export function setClassifyConfigKey(c: ClassifyConfig, dotted: string, text: string, where = "--set"): ClassifyConfig {
  const leaf = leafAt(dotted);
  if (!leaf) throw new Error(`${where}: unknown key ${dotted} (expected one of ${leafKeys().join("|")})`);
  let v: unknown = text;
  if (leaf.type === "int" || leaf.type === "number") v = text.trim() === "" ? Number.NaN : Number(text);
  else if (leaf.type === "bool") v = text === "true" || text === "" ? true : text === "false" ? false : text;
  else if (leaf.type === "int[]") {
    try {
      v = yaml.load(text);
    } catch {
      v = text;
    }
  }
  return withConfigValue(c, dotted, v, where);
}

/**
 * Validates a study config: the classification keys plus `grid: {dotted.key: [values…]}`.
 * @example resolveStudyConfig({ grid: { "model.fusion": ["concat", "transformer"], "data.tags": [false, true] } })
 */
export function resolveStudyConfig(raw: unknown, where = "config"): StudyConfig {
  if (raw !== undefined && raw !== null && !isObj(raw)) throw new Error(`${where}: the config must be a map, got ${JSON.stringify(raw)}`);
  const { grid, ...rest } = (raw ?? {}) as Record<string, unknown>;
  const base = resolveClassifyConfig(rest, where);
  const axes: [string, Array<string | number | boolean>][] = [];
  if (grid !== undefined) {
    if (!isObj(grid)) throw new Error(`${where}: grid must be a map of dotted key → list of values, got ${JSON.stringify(grid)}`);
    for (const [k, vs] of Object.entries(grid)) {
      if (!leafAt(k)) throw new Error(`${where}: unknown grid key ${k} (expected one of ${leafKeys().join("|")})`);
      if (k === "name" || k.startsWith("data.fold") || k === "data.dataset" || k === "data.label" || k === "data.limit")
        throw new Error(`${where}: grid key ${k} cannot vary within a study (folds and data are shared by every arm)`);
      if (!Array.isArray(vs) || vs.length === 0) throw new Error(`${where}: grid.${k} must be a non-empty list of values`);
      for (const v of vs) withConfigValue(base, k, v, `${where}: grid.${k}`);
      axes.push([k, vs as Array<string | number | boolean>]);
    }
  }
  return { base, grid: axes };
}

/** Reads and validates a study YAML file (the name defaults to the file's). */
export function loadStudyConfig(file: string): StudyConfig {
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const s = resolveStudyConfig(raw, file);
  if (!(isObj(raw) && raw.name !== undefined)) s.base.name = path.basename(file).replace(/\.ya?ml$/, "");
  return s;
}

/** The trainer options a config stands for. */
export function classifierOptions(c: ClassifyConfig): TrainClassifierOptions {
  return {
    fusion: c.model.fusion,
    imageWidths: c.model.image_widths,
    width: c.model.width,
    heads: c.model.heads,
    embeddingDim: c.model.embedding_dim,
    head: c.model.head,
    loss: (c.loss.kind === "ce" ? "cross_entropy" : "focal") as ClassifierLoss,
    gamma: c.loss.gamma,
    labelSmoothing: c.loss.label_smoothing,
    weights: c.loss.class_weights,
    weightAlpha: c.loss.class_weight_alpha,
    weightBeta: c.loss.class_weight_beta,
    sampling: c.sampling.kind,
    samplingAlpha: c.sampling.alpha,
    epochs: c.optim.epochs,
    batchSize: c.optim.batch_size,
    lr: c.optim.lr,
    weightDecay: c.optim.weight_decay,
    warmup: c.optim.warmup,
    seed: c.seed,
  };
}
