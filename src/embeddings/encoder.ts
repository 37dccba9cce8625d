/**
 * The one interface every encoder source implements, and the frozen table of sources.
 * An encoder id is `<source>[@<variant>][:<model>]`, for example `mobilenet-v2`, `mobilenet-v2@96`,
 * `use-lite`, `hf-text:Xenova/all-MiniLM-L6-v2`, `hf-image:tiny-vit`.
 */
import type { ImageData32 } from "../data/index";
import type { Pooling } from "./pooling";

/** What an encoder reads. */
export type Modality = "text" | "image";

/** An image item: a file path (decoded with the data module's `readImage`) or an already decoded image. */
export type ImageItem = string | ImageData32;

/** An item of either modality. */
export type EmbedItem = string | ImageData32;

/** A loaded encoder: pooled, unnormalised features for a batch of items. */
export interface Encoder {
  /** The full encoder id (source, variant and model), e.g. `mobilenet-v2@96`. */
  readonly id: string;
  readonly modality: Modality;
  /** The feature width. */
  readonly dim: number;
  /** The pooling used when none is asked for. */
  readonly defaultPooling: Pooling;
  /** The poolings this encoder supports. */
  readonly poolings: readonly Pooling[];
  /** Every preprocessing setting that changes the output (image size, max length, dtype …); part of the cache key. */
  readonly preprocessing: Readonly<Record<string, unknown>>;
  /** The weight files this encoder reads (hashed for the cache key). */
  readonly weightFiles: readonly string[];
  /** Encodes one batch to `[items.length, dim]` pooled features (not normalised). */
  encodeBatch(items: readonly EmbedItem[], pooling: Pooling): Promise<Float32Array>;
  /** Frees the model. */
  dispose(): Promise<void> | void;
}

/** Options understood by encoder loaders (each source reads the ones it knows). */
export interface EncoderOptions {
  /** transformers.js weight dtype (`fp32`, `fp16`, `q8`, `int8`, `uint8`, `q4`, `bnb4`, `q4f16`). Defaults to "fp32". */
  dtype?: string;
  /** transformers.js: the folder holding `<model>/config.json …`. Defaults to `<env.cacheDir>/models`. */
  localModelPath?: string;
  /** transformers.js: allow downloads from the Hugging Face hub. Defaults to false (offline). */
  allowRemoteModels?: boolean;
  /** Text encoders: truncate to this many tokens. Defaults to 128. */
  maxLength?: number;
  /** mobilenet-v2: the input side in pixels (overrides the `@size` variant). Defaults to 224, or the variant. */
  imageSize?: number;
  /** mobilenet-v2: the folder holding nsfwjs's `mobilenet_v2` model files. Defaults to `<env.root>/node_modules/nsfwjs/dist/models/mobilenet_v2`. */
  modelDir?: string;
}

/** A parsed encoder id. */
export interface EncoderSpec {
  source: string;
  variant: string | null;
  model: string | null;
  id: string;
}

/** A source of encoders in the registry. */
export interface EncoderSource {
  /** One line for listings. */
  summary: string;
  /** The modality its encoders read. */
  modality: Modality;
  /** Whether the id needs a `:<model>` part. */
  needsModel: boolean;
  /** Loads an encoder. */
  load(spec: EncoderSpec, opts: EncoderOptions): Promise<Encoder>;
}

/** Splits an encoder id into source, variant and model. */
export function parseEncoderId(id: string): EncoderSpec {
  const m = /^([a-z0-9-]+)(?:@([A-Za-z0-9._-]+))?(?::(.+))?$/.exec(id);
  if (!m) throw new Error(`bad encoder id: '${id}' (expected <source>[@variant][:model], e.g. mobilenet-v2@96 or hf-text:Xenova/all-MiniLM-L6-v2)`);
  return { source: m[1]!, variant: m[2] ?? null, model: m[3] ?? null, id };
}

/** Turns an encoder id into a safe folder name. */
export function encoderDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9._@-]+/g, "_");
}
