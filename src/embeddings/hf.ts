/**
 * transformers.js (`@huggingface/transformers`) encoders: `hf-text:<model>` runs the
 * `feature-extraction` pipeline's tokenizer and model, `hf-image:<model>` the
 * `image-feature-extraction` pipeline's processor and model; matchlab pools the token / patch
 * states itself (cls | mean | max, masked), so every pooling works for every model.
 *
 * Offline by default: `env.allowRemoteModels = false` and `env.localModelPath` =
 * `<cacheDir>/models` (or a path you pass). Missing files are listed before loading, with how
 * to put them in place.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { env as hfEnv, pipeline, RawImage } from "@huggingface/transformers";
import { type ImageData32, imageToBytes, readImage } from "../data/index";
import { env } from "../env";
import type { EmbedItem, Encoder, EncoderOptions, EncoderSpec, Modality } from "./encoder";
import { POOLINGS, type Pooling, poolTokenStates } from "./pooling";

/** transformers.js dtypes and the ONNX file suffix each one loads. */
export const HF_DTYPE_SUFFIX: Readonly<Record<string, string>> = Object.freeze({
  fp32: "",
  fp16: "_fp16",
  int8: "_int8",
  uint8: "_uint8",
  q8: "_quantized",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
});

/** The folder transformers.js models are read from when none is given. */
export function defaultLocalModelPath(): string {
  return path.join(env.cacheDir, "models");
}

/** The files (relative to the model folder) a transformers.js encoder needs for a modality and dtype. */
export function hfRequiredFiles(modality: Modality, dtype = "fp32"): string[] {
  const suffix = HF_DTYPE_SUFFIX[dtype];
  if (suffix === undefined) throw new Error(`unknown dtype: ${dtype} (expected ${Object.keys(HF_DTYPE_SUFFIX).join("|")})`);
  const onnx = `onnx/model${suffix}.onnx`;
  return modality === "text" ? ["config.json", "tokenizer.json", "tokenizer_config.json", onnx] : ["config.json", "preprocessor_config.json", onnx];
}

/** The files missing from `<localModelPath>/<model>` (empty when all are there). */
export function hfMissingFiles(model: string, modality: Modality, { dtype = "fp32", localModelPath = defaultLocalModelPath() } = {}): string[] {
  const dir = path.join(localModelPath, model);
  return hfRequiredFiles(modality, dtype).filter((f) => !existsSync(path.join(dir, f)));
}

/** The error text for missing model files: what is missing, where, and how to put it in place. */
export function hfMissingFilesMessage(model: string, modality: Modality, missing: readonly string[], dtype: string, localModelPath: string): string {
  const dir = path.join(localModelPath, model);
  const all = hfRequiredFiles(modality, dtype);
  return [
    `hf-${modality}:${model}: offline and ${missing.length} model file(s) missing under ${dir}:`,
    ...missing.map((f) => `  - ${f}`),
    `A transformers.js-format model needs ${all.join(", ")} (dtype ${dtype}).`,
    "To put them in place, on a machine with internet run",
    `  huggingface-cli download ${model} ${all.join(" ")} --local-dir ${dir}`,
    `(or git clone https://huggingface.co/${model}) and copy the files into ${dir};`,
    "models exported for transformers.js live under the Xenova/ and onnx-community/ names.",
    "Or allow downloads: allowRemoteModels: true (CLI: --allow-remote). Or point localModelPath (--models) at another folder.",
  ].join("\n");
}

interface HfTensor {
  dims: number[];
  data: ArrayLike<number> & { length: number };
}
interface HfPipe {
  tokenizer?: (texts: string[], o: Record<string, unknown>) => Record<string, HfTensor>;
  processor?: (images: unknown[]) => Promise<{ pixel_values: HfTensor }>;
  model: ((inputs: Record<string, unknown>) => Promise<Record<string, HfTensor>>) & { dispose?: () => Promise<void> };
  dispose(): Promise<void>;
}

function toRawImage(img: ImageData32): RawImage {
  return new RawImage(new Uint8ClampedArray(imageToBytes(img)), img.width, img.height, 3);
}

async function toImage(item: EmbedItem, i: number): Promise<ImageData32> {
  if (typeof item === "string") return readImage(item);
  if (!item || !(item.data instanceof Float32Array))
    throw new Error(`hf-image: item ${i} must be a path or {data: Float32Array HWC, height, width, channels: 3}`);
  return item;
}

function poolOutput(out: Record<string, HfTensor>, mask: HfTensor | null, pooling: Pooling, who: string): Float32Array {
  const t = out.last_hidden_state ?? out.token_embeddings ?? out.logits ?? out.image_embeds ?? out.text_embeds;
  if (!t) throw new Error(`${who}: the model returned none of last_hidden_state|token_embeddings|logits|image_embeds (got ${Object.keys(out).join(", ")})`);
  if (t.dims.length === 2) return Float32Array.from(t.data as ArrayLike<number>);
  if (t.dims.length !== 3) throw new Error(`${who}: expected [batch, tokens, hidden] states, got dims ${JSON.stringify(t.dims)}`);
  return poolTokenStates(t.data as ArrayLike<number>, t.dims as [number, number, number], mask ? (mask.data as ArrayLike<number>) : null, pooling);
}

/** Loads `hf-text:<model>` or `hf-image:<model>` through transformers.js pipelines. */
export async function loadHfEncoder(spec: EncoderSpec, opts: EncoderOptions, modality: Modality): Promise<Encoder> {
  const { dtype = "fp32", localModelPath = defaultLocalModelPath(), allowRemoteModels = false, maxLength = 128 } = opts;
  const model = spec.model;
  if (!model) throw new Error(`${spec.id}: name a model, e.g. hf-${modality}:Xenova/all-MiniLM-L6-v2`);
  const missing = hfMissingFiles(model, modality, { dtype, localModelPath });
  if (missing.length > 0 && !allowRemoteModels) throw new Error(hfMissingFilesMessage(model, modality, missing, dtype, localModelPath));
  hfEnv.allowRemoteModels = allowRemoteModels;
  hfEnv.allowLocalModels = true;
  hfEnv.localModelPath = localModelPath.endsWith(path.sep) ? localModelPath : localModelPath + path.sep;
  hfEnv.cacheDir = path.join(env.cacheDir, "hf-hub");
  const task = modality === "text" ? "feature-extraction" : "image-feature-extraction";
  const pipe = (await pipeline(task, model, {
    dtype: dtype as "fp32",
    device: "cpu",
  })) as unknown as HfPipe;
  const who = spec.id;
  const encodeBatch = async (items: readonly EmbedItem[], pooling: Pooling): Promise<Float32Array> => {
    if (!POOLINGS.includes(pooling)) throw new Error(`unknown pooling: ${pooling} (expected cls|mean|max)`);
    if (modality === "text") {
      const texts = items.map((t, i) => {
        if (typeof t !== "string") throw new Error(`${who}: item ${i} is not a string (a text encoder takes titles)`);
        return t;
      });
      const inputs = pipe.tokenizer!(texts, {
        padding: true,
        truncation: true,
        max_length: maxLength,
      });
      const out = await pipe.model(inputs);
      return poolOutput(out, inputs.attention_mask ?? null, pooling, who);
    }
    const imgs = await Promise.all(items.map((it, i) => toImage(it, i)));
    const { pixel_values } = await pipe.processor!(imgs.map(toRawImage));
    const out = await pipe.model({ pixel_values });
    return poolOutput(out, null, pooling, who);
  };
  const probe: EmbedItem =
    modality === "text"
      ? "a"
      : {
          data: new Float32Array(16 * 16 * 3).fill(1),
          height: 16,
          width: 16,
          channels: 3,
        };
  const dim = (await encodeBatch([probe], "cls")).length;
  const dir = path.join(localModelPath, model);
  return {
    id: spec.id,
    modality,
    dim,
    defaultPooling: modality === "text" ? "mean" : "cls",
    poolings: POOLINGS,
    preprocessing: Object.freeze(modality === "text" ? { dtype, maxLength } : { dtype, decode: "readImage/white-flatten" }),
    // the local copy when there is one, else transformers.js's download cache (allowRemoteModels)
    weightFiles: hfRequiredFiles(modality, dtype)
      .map((f) => [path.join(dir, f), path.join(hfEnv.cacheDir ?? "", model, f)].find((p) => existsSync(p)))
      .filter((p): p is string => p !== undefined),
    encodeBatch,
    async dispose() {
      await pipe.dispose();
    },
  };
}
