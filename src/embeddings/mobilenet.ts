/**
 * nsfwjs's bundled Keras MobileNetV2 (weights quantised to 8 bits, MIT) as an image backbone:
 * cut at `out_relu` (1280 channels), globally pooled, at any square input size (224 or 96 …),
 * frozen or trainable from a chosen inverted-residual block on.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { type ImageData32, readImage } from "../data/index";
import { env } from "../env";
import type { EmbedItem, Encoder, EncoderOptions, EncoderSpec } from "./encoder";
import type { Pooling } from "./pooling";
import { readyEmbeddingBackend } from "./tf_backend";

/** The layer the backbone is cut at. */
export const MOBILENET_CUT_LAYER = "out_relu";
/** The backbone's feature width. */
export const MOBILENET_DIM = 1280;

/** The nsfwjs model folder. */
export function mobilenetModelDir(dir?: string): string {
  return dir ?? path.join(env.root, "node_modules", "nsfwjs", "dist", "models", "mobilenet_v2");
}

/** The files the MobileNetV2 backbone reads. */
export function mobilenetWeightFiles(dir?: string): string[] {
  const d = mobilenetModelDir(dir);
  return [path.join(d, "model.min.js"), path.join(d, "group1-shard1of1.min.js")];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

function specBytes(w: WeightSpec): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const dt = w.quantization?.dtype ?? w.dtype;
  const per: Record<string, number> = {
    uint8: 1,
    uint16: 2,
    float16: 2,
    float32: 4,
    int32: 4,
  };
  const b = per[dt];
  if (b === undefined) throw new Error(`mobilenet: weight ${w.name} has unsupported dtype ${dt}`);
  return n * b;
}

/**
 * Reads nsfwjs's model files and returns tfjs model artifacts for the backbone cut at `cutLayer`
 * (default `out_relu`), with the input set to `size`×`size`×3 and only the kept layers' weights.
 */
export function mobilenetArtifacts(size = 224, dir?: string, cutLayer: string = MOBILENET_CUT_LAYER): tf.io.ModelArtifacts {
  const files = mobilenetWeightFiles(dir);
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`mobilenet: missing ${f}; install the nsfwjs package (npm install nsfwjs@4.4.0) or pass modelDir`);
  }
  if (!Number.isInteger(size) || size < 32) throw new Error(`mobilenet: imageSize must be an integer ≥ 32, got ${size}`);
  const req = createRequire(path.join(env.root, "package.json"));
  const json = req(files[0]!) as {
    modelTopology: {
      model_config: {
        config: {
          layers: KerasLayer[];
          input_layers: unknown;
          output_layers: unknown;
        };
      };
    };
    weightsManifest: Array<{ weights: WeightSpec[] }>;
  };
  const shard = req(files[1]!) as string;
  const bytes = Buffer.from(shard, "base64");
  const topo = structuredClone(json.modelTopology);
  const cfg = topo.model_config.config;
  const cut = cfg.layers.findIndex((l) => l.name === cutLayer);
  if (cut < 0 || cut >= cfg.layers.findIndex((l) => l.name === MOBILENET_CUT_LAYER) + 1) {
    throw new Error(
      `mobilenet: cannot cut at '${cutLayer}' (expected a layer of the backbone up to ${MOBILENET_CUT_LAYER}, e.g. block_10_expand_relu, block_13_expand_relu)`,
    );
  }
  // keep the cut layer and its ancestors only (in their original, topological order)
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const need = new Set<string>();
  const stack = [cutLayer];
  while (stack.length) {
    const name = stack.pop()!;
    if (need.has(name)) continue;
    need.add(name);
    for (const node of (byName.get(name)?.inbound_nodes ?? []) as unknown[][][]) for (const inb of node) stack.push(String(inb[0]));
  }
  cfg.layers = cfg.layers.slice(0, cut + 1).filter((l) => need.has(l.name));
  const input = cfg.layers[0]!;
  input.config.batch_input_shape = [null, size, size, 3];
  cfg.output_layers = [[cutLayer, 0, 0]];
  const keep = new Set(cfg.layers.map((l) => l.name));
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const w of json.weightsManifest.flatMap((g) => g.weights)) {
    const n = specBytes(w);
    if (keep.has(w.name.split("/")[0]!)) {
      specs.push(w);
      parts.push(bytes.subarray(offset, offset + n));
    }
    offset += n;
  }
  if (offset !== bytes.length) throw new Error(`mobilenet: weight manifest covers ${offset} bytes but the shard has ${bytes.length}`);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return {
    modelTopology: topo as unknown as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: specs as tf.io.WeightsManifestEntry[],
    weightData: data.buffer,
  };
}

/**
 * The backbone's pretrained weights (up to `out_relu`: ImageNet's in blocks 0–10, nsfwjs's tuning after;
 * dequantised from 8 bits to float32) by Keras name, e.g.
 * `block_3_expand/kernel`, `bn_Conv1/moving_mean`: the names of src/models' mobileNetV2 layers at alpha
 * 1.0, so a model built by it can start from them. The caller disposes the tensors.
 */
export function mobilenetWeights(dir?: string): tf.NamedTensorMap {
  const a = mobilenetArtifacts(224, dir);
  return tf.io.decodeWeights(a.weightData as ArrayBuffer, a.weightSpecs!);
}

/** Options for {@link mobilenetBackbone}. */
export interface MobilenetBackboneOptions {
  /** Input side in pixels. Defaults to 224. */
  size?: number;
  /** Global pooling over the 7×7 (or 3×3 at 96 px) map, or `none` for the map itself. Defaults to "mean". */
  pooling?: "mean" | "max" | "none";
  /**
   * Which layers train: `none` (frozen), `all`, or a block number 0–16 (block 0 is `expanded_conv`,
   * the stem is always frozen; `Conv_1` and `out_relu` train whenever a block does).
   * BatchNormalization layers stay frozen. Defaults to "none".
   */
  trainableFrom?: "none" | "all" | number;
  /** The model folder. Defaults to nsfwjs's. */
  modelDir?: string;
}

function blockOf(layerName: string): number {
  if (layerName.startsWith("expanded_conv")) return 0;
  const m = /^block_(\d+)_/.exec(layerName);
  if (m) return Number(m[1]);
  if (/^(Conv1|bn_Conv1|Conv1_pad|Conv1_relu|input)/.test(layerName)) return -1;
  return 17; // Conv_1, Conv_1_bn, out_relu
}

/**
 * Builds the MobileNetV2 backbone: `[b, size, size, 3]` in [0, 1] → `[b, 1280]` (or the feature map).
 * To fine-tune, call it with `{ training: false }` inside the loss: the trainable convolutions still
 * get gradients while BatchNormalization keeps its pretrained moving statistics (tfjs, unlike Keras,
 * would otherwise use and update batch statistics even in frozen BN layers).
 * @example
 * const net = await mobilenetBackbone({ size: 96, trainableFrom: 13 });
 * const loss = () => lossOf(head.apply(net.apply(x, { training: false })));
 */
export async function mobilenetBackbone(opts: MobilenetBackboneOptions = {}): Promise<tf.LayersModel> {
  const { size = 224, pooling = "mean", trainableFrom = "none", modelDir } = opts;
  await readyEmbeddingBackend();
  const base = await tf.loadLayersModel(tf.io.fromMemory(mobilenetArtifacts(size, modelDir)));
  const from = trainableFrom === "none" ? 99 : trainableFrom === "all" ? -1 : trainableFrom;
  if (typeof from !== "number" || !Number.isInteger(from) || from < -1 || from > 99) {
    throw new Error(`mobilenet: trainableFrom must be none|all|0..16, got ${String(trainableFrom)}`);
  }
  for (const layer of base.layers) {
    const isBn = layer.getClassName() === "BatchNormalization";
    layer.trainable = !isBn && blockOf(layer.name) >= from;
  }
  if (pooling === "none") return base;
  const pool = pooling === "mean" ? tf.layers.globalAveragePooling2d({ name: "gap" }) : tf.layers.globalMaxPooling2d({ name: "gmp" });
  const out = pool.apply(base.outputs[0]!) as tf.SymbolicTensor;
  return tf.model({
    inputs: base.inputs,
    outputs: out,
    name: `mobilenet_v2_${size}_${pooling}`,
  });
}

async function toImage(item: EmbedItem, size: number): Promise<ImageData32> {
  if (typeof item === "string") return readImage(item, { size });
  if (!item || !(item.data instanceof Float32Array))
    throw new Error("mobilenet: an image item must be a path or {data: Float32Array HWC, height, width, channels: 3}");
  return item;
}

/** Loads the MobileNetV2 encoder for an id like `mobilenet-v2` or `mobilenet-v2@96`. */
export async function loadMobilenetEncoder(spec: EncoderSpec, opts: EncoderOptions): Promise<Encoder> {
  const size = opts.imageSize ?? (spec.variant ? Number(spec.variant) : 224);
  if (!Number.isInteger(size)) throw new Error(`mobilenet-v2: variant must be an image size like @96 or @224, got @${spec.variant}`);
  const weightFiles = mobilenetWeightFiles(opts.modelDir);
  for (const f of weightFiles) if (!existsSync(f)) throw new Error(`mobilenet: missing ${f}; install the nsfwjs package (npm install nsfwjs@4.4.0) or pass modelDir`);
  // The weights load on the first batch, so a run served wholly from the cache never loads them.
  let net: Promise<tf.LayersModel> | null = null;
  const model = () => {
    net ??= mobilenetBackbone({ size, pooling: "none", modelDir: opts.modelDir });
    return net;
  };
  return {
    id: spec.id,
    modality: "image",
    dim: MOBILENET_DIM,
    defaultPooling: "mean",
    poolings: Object.freeze(["mean", "max"] as Pooling[]),
    preprocessing: Object.freeze({
      size,
      resize: "fill/linear",
      flatten: "white",
      scale: "[0,1]",
    }),
    weightFiles,
    async encodeBatch(items, pooling) {
      if (pooling === "cls") throw new Error("mobilenet-v2: pooling cls is undefined for a CNN (no class token); use mean|max");
      const imgs = await Promise.all(items.map((it) => toImage(it, size)));
      const batch = new Float32Array(imgs.length * size * size * 3);
      imgs.forEach((im, i) => {
        if (im.height !== size || im.width !== size)
          throw new Error(`mobilenet-v2: item ${i} is ${im.height}x${im.width}, expected ${size}x${size} (pass a path, or resize first)`);
        batch.set(im.data, i * size * size * 3);
      });
      const m = await model();
      const y = tf.tidy(() => {
        const x = tf.tensor4d(batch, [imgs.length, size, size, 3]);
        const fm = m.predict(x) as tf.Tensor4D;
        return pooling === "mean" ? fm.mean([1, 2]) : fm.max([1, 2]);
      });
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return out;
    },
    async dispose() {
      if (net) (await net).dispose();
      net = null;
    },
  };
}
