/**
 * `matchlab embed`: embeds a dataset's images or titles with one or more encoders through the
 * on-disk cache (only listings not yet cached are computed), from flags or a YAML config.
 * With --json, ends with one JSON line per encoder: {"encoder","computed","cached","dim","ms"}.
 */
import path from "node:path";
import { ConfigError, readYaml, resolveSection, type Section } from "../config";
import { loadDataset, ON_BAD_ROW_NAMES, type OnBadRow } from "../data/index";
import { disposeEncoders, ENCODER_SOURCES, embedDataset, parsePooling, POOLINGS, type EmbedDatasetOptions } from "../embeddings/index";
import { env } from "../env";
import { formatDuration } from "../progress";
import { type Command, type FlagSpec, intFlag, parseFlags, UsageError } from "./common";

const SUMMARY = "embed a dataset's images or titles with pretrained encoders, through the on-disk cache";

const FLAGS: Record<string, FlagSpec> = {
  config: {
    type: "string",
    help: "YAML config (keys: dataset, encoders, pooling, batchSize, dtype, models, allowRemote, imageSize, maxLength, limit, cacheDir)",
  },
  dataset: {
    type: "string",
    help: "dataset folder (train.csv + train_images/)",
    default: "<env.dataset>",
  },
  encoder: {
    type: "string",
    help: `encoder id(s), comma-separated (sources: ${Object.keys(ENCODER_SOURCES).join(", ")}; e.g. mobilenet-v2@96,use-lite)`,
  },
  pooling: { type: "string", help: "cls|mean|max (default: the encoder's)" },
  "batch-size": {
    type: "string",
    help: "items per forward pass",
    default: "32",
  },
  dtype: {
    type: "string",
    help: "transformers.js weight dtype (fp32, fp16, q8, int8, uint8, q4 …)",
    default: "fp32",
  },
  models: {
    type: "string",
    help: "folder of transformers.js models (default: <cacheDir>/models)",
  },
  "allow-remote": {
    type: "boolean",
    help: "let transformers.js download from the Hugging Face hub",
  },
  "image-size": {
    type: "string",
    help: "mobilenet-v2 input side (overrides @variant)",
  },
  "max-length": {
    type: "string",
    help: "text encoders: max tokens",
    default: "128",
  },
  limit: { type: "string", help: "embed only the first N listings" },
  "cache-dir": { type: "string", help: "cache root (default: env.cacheDir)" },
  json: { type: "boolean", help: "end with one JSON line per encoder" },
  "on-bad-row": { type: "string", help: `a row whose image is missing or does not decode: ${ON_BAD_ROW_NAMES.join("|")} (skip decodes every image first and lists the dropped rows)`, default: "error" },
};

/** The schema of an embed YAML config (the one config engine of src/config.ts). */
export const EMBED_SCHEMA: Section = Object.freeze({
  dataset: { type: "string", default: "", doc: "dataset folder, relative to the config's folder ('' = $MATCHLAB_DATASET)" },
  encoders: {
    type: "custom",
    default: [],
    doc: "encoder ids to embed with, e.g. [mobilenet-v2@96, use-lite]",
    allowed: "a non-empty list of encoder ids",
    check(v, key, where) {
      if (!Array.isArray(v) || v.length === 0 || v.some((e) => typeof e !== "string")) throw new ConfigError(`${where}: ${key} must be a non-empty list of encoder ids (e.g. [mobilenet-v2@96, use-lite])`, key);
      return [...v];
    },
  },
  encoder: { type: "string", default: "", doc: "one encoder id (instead of encoders)" },
  pooling: { type: "enum", default: "", values: ["", ...POOLINGS], doc: "token pooling of text encoders ('' = the encoder's default)" },
  batchSize: { type: "int", default: 0, min: 0, doc: "rows per batch (0 = the encoder's default)" },
  dtype: { type: "string", default: "", doc: "transformers.js dtype ('' = default)" },
  models: { type: "string", default: "", doc: "local model folder, relative to the config's folder" },
  allowRemote: { type: "bool", default: false, doc: "let transformers.js download models" },
  imageSize: { type: "int", default: 0, min: 0, doc: "image encoders: input side (0 = default)" },
  maxLength: { type: "int", default: 0, min: 0, doc: "text encoders: max tokens (0 = default)" },
  limit: { type: "int", default: 0, min: 0, doc: "embed only the first N listings (0 = all)" },
  cacheDir: { type: "string", default: "", doc: "cache root, relative to the config's folder ('' = env.cacheDir)" },
});

interface EmbedPlan {
  dataset: string;
  encoders: string[];
  opts: Omit<EmbedDatasetOptions, "model">;
}

/** Reads and validates an embed YAML config (unknown keys rejected). Relative paths resolve from the config's folder. */
export function readEmbedConfig(file: string): EmbedPlan {
  const c = resolveSection(EMBED_SCHEMA, readYaml(file), file) as { dataset: string; encoders: string[]; encoder: string; pooling: string; batchSize: number; dtype: string; models: string; allowRemote: boolean; imageSize: number; maxLength: number; limit: number; cacheDir: string };
  const base = path.dirname(path.resolve(file));
  const encoders = c.encoders.length > 0 ? c.encoders : c.encoder ? [c.encoder] : [];
  if (encoders.length === 0) throw new ConfigError(`${file}: give encoders (a list of encoder ids, e.g. [mobilenet-v2@96, use-lite]) or encoder`, "encoders");
  const orUndef = <T>(v: T, none: T) => (v === none ? undefined : v);
  return {
    dataset: c.dataset ? path.resolve(base, c.dataset) : env.dataset,
    encoders,
    opts: {
      pooling: c.pooling ? parsePooling(c.pooling, `${file}: pooling`) : undefined,
      batchSize: orUndef(c.batchSize, 0),
      dtype: orUndef(c.dtype, ""),
      localModelPath: c.models ? path.resolve(base, c.models) : undefined,
      allowRemoteModels: c.allowRemote ? true : undefined,
      imageSize: orUndef(c.imageSize, 0),
      maxLength: orUndef(c.maxLength, 0),
      limit: orUndef(c.limit, 0),
      cacheDir: c.cacheDir ? path.resolve(base, c.cacheDir) : undefined,
    },
  };
}

function planFromFlags(p: NonNullable<ReturnType<typeof parseFlags>>): EmbedPlan {
  const enc = p.values.encoder;
  if (typeof enc !== "string" || !enc.trim()) throw new UsageError("give --encoder <id>[,<id>…] or --config <yaml>");
  const ds = p.values.dataset === FLAGS.dataset!.default ? env.dataset : path.resolve(String(p.values.dataset));
  return {
    dataset: ds,
    encoders: enc
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    opts: {
      pooling: p.values.pooling === undefined ? undefined : parsePooling(String(p.values.pooling), "--pooling"),
      batchSize: intFlag(p, "batch-size", 32),
      dtype: String(p.values.dtype),
      localModelPath: p.values.models ? path.resolve(String(p.values.models)) : undefined,
      allowRemoteModels: !!p.values["allow-remote"],
      imageSize: p.values["image-size"] === undefined ? undefined : intFlag(p, "image-size", 224),
      maxLength: intFlag(p, "max-length", 128),
      limit: p.values.limit === undefined ? undefined : intFlag(p, "limit", 0),
      cacheDir: p.values["cache-dir"] ? path.resolve(String(p.values["cache-dir"])) : undefined,
    },
  };
}

/** The `embed` command. */
export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("embed", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]} (matchlab embed takes only options; see --help)`);
    if (typeof p.values.config === "string") {
      const other = Object.keys(p.values).filter(
        (k) => k !== "config" && k !== "json" && p.values[k] !== undefined && p.values[k] !== FLAGS[k]?.default && p.values[k] !== false,
      );
      if (other.length) throw new UsageError(`--config cannot be combined with ${other.map((k) => `--${k}`).join(", ")} (put them in the YAML)`);
    }
    const plan = typeof p.values.config === "string" ? readEmbedConfig(p.values.config) : planFromFlags(p);
    const onBadRow = p.values["on-bad-row"] as string;
    if (!(ON_BAD_ROW_NAMES as readonly string[]).includes(onBadRow)) throw new UsageError(`bad value for --on-bad-row: ${JSON.stringify(onBadRow)} (expected one of ${ON_BAD_ROW_NAMES.join("|")})`);
    const ds = await loadDataset(plan.dataset, { onBadRow: onBadRow as OnBadRow, checkImages: onBadRow === "skip" ? "decode" : true });
    const lines: string[] = [];
    try {
      for (const model of plan.encoders) {
        const r = await embedDataset(ds, { ...plan.opts, model });
        const line = {
          encoder: r.encoder,
          computed: r.computed,
          cached: r.cached,
          dim: r.dim,
          ms: Math.round(r.ms),
        };
        console.error(
          `${r.encoder}: ${r.n} ${r.field === "image" ? "images" : "titles"} → ${r.dim}-d (${r.computed} computed, ${r.cached} cached${r.stale ? `; stale cache replaced: ${r.stale}` : ""}) in ${formatDuration(r.ms)}`,
        );
        lines.push(JSON.stringify(line));
      }
    } finally {
      await disposeEncoders();
    }
    if (p.values.json) for (const l of lines) console.log(l);
    return 0;
  },
};
