/**
 * `matchlab embed`: embeds a dataset's images or titles with one or more encoders through the
 * on-disk cache (only listings not yet cached are computed), from flags or a YAML config.
 * With --json, ends with one JSON line per encoder: {"encoder","computed","cached","dim","ms"}.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import { loadDataset } from "../data/index";
import { disposeEncoders, ENCODER_SOURCES, embedDataset, parsePooling, type EmbedDatasetOptions } from "../embeddings/index";
import { env } from "../env";
import { formatDuration } from "../progress";
import { type FlagSpec, intFlag, parseFlags } from "./args";
import type { Command } from "./main";

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
};

/** The keys a YAML config may have. */
export const EMBED_CONFIG_KEYS: readonly string[] = Object.freeze([
  "dataset",
  "encoders",
  "encoder",
  "pooling",
  "batchSize",
  "dtype",
  "models",
  "allowRemote",
  "imageSize",
  "maxLength",
  "limit",
  "cacheDir",
]);

interface EmbedPlan {
  dataset: string;
  encoders: string[];
  opts: Omit<EmbedDatasetOptions, "model">;
}

function num(v: unknown, key: string, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and validates an embed YAML config (unknown keys rejected). Relative paths resolve from the config's folder. */
export function readEmbedConfig(file: string): EmbedPlan {
  const raw = yaml.load(readFileSync(file, "utf8"));
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: expected a mapping of ${EMBED_CONFIG_KEYS.join(", ")}`);
  const c = raw as Record<string, unknown>;
  const bad = Object.keys(c).filter((k) => !EMBED_CONFIG_KEYS.includes(k));
  if (bad.length) throw new Error(`${file}: unknown key(s) ${bad.join(", ")} (expected ${EMBED_CONFIG_KEYS.join(", ")})`);
  const base = path.dirname(path.resolve(file));
  const encoders = c.encoders ?? (c.encoder === undefined ? undefined : [c.encoder]);
  if (!Array.isArray(encoders) || encoders.length === 0 || encoders.some((e) => typeof e !== "string")) {
    throw new Error(`${file}: encoders must be a non-empty list of encoder ids (e.g. [mobilenet-v2@96, use-lite])`);
  }
  for (const k of ["dataset", "dtype", "models", "cacheDir", "pooling"]) {
    if (c[k] !== undefined && typeof c[k] !== "string") throw new Error(`${file}: ${k} must be a string, got ${JSON.stringify(c[k])}`);
  }
  if (c.allowRemote !== undefined && typeof c.allowRemote !== "boolean") throw new Error(`${file}: allowRemote must be true or false`);
  return {
    dataset: c.dataset ? path.resolve(base, c.dataset as string) : env.dataset,
    encoders: encoders as string[],
    opts: {
      pooling: c.pooling === undefined ? undefined : parsePooling(c.pooling as string, `${file}: pooling`),
      batchSize: num(c.batchSize, "batchSize", file),
      dtype: c.dtype as string | undefined,
      localModelPath: c.models ? path.resolve(base, c.models as string) : undefined,
      allowRemoteModels: c.allowRemote as boolean | undefined,
      imageSize: num(c.imageSize, "imageSize", file),
      maxLength: num(c.maxLength, "maxLength", file),
      limit: num(c.limit, "limit", file),
      cacheDir: c.cacheDir ? path.resolve(base, c.cacheDir as string) : undefined,
    },
  };
}

function planFromFlags(p: NonNullable<ReturnType<typeof parseFlags>>): EmbedPlan {
  const enc = p.values.encoder;
  if (typeof enc !== "string" || !enc.trim()) throw new Error("give --encoder <id>[,<id>…] or --config <yaml>");
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
    if (p.positionals.length) throw new Error(`unexpected argument: ${p.positionals[0]} (matchlab embed takes only options; see --help)`);
    if (typeof p.values.config === "string") {
      const other = Object.keys(p.values).filter(
        (k) => k !== "config" && k !== "json" && p.values[k] !== undefined && p.values[k] !== FLAGS[k]?.default && p.values[k] !== false,
      );
      if (other.length) throw new Error(`--config cannot be combined with ${other.map((k) => `--${k}`).join(", ")} (put them in the YAML)`);
    }
    const plan = typeof p.values.config === "string" ? readEmbedConfig(p.values.config) : planFromFlags(p);
    const ds = await loadDataset(plan.dataset, { checkImages: "exists" });
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
