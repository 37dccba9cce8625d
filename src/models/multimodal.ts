/**
 * The image + text matching model: an image encoder (small ResNet or MobileNetV2) and a text
 * encoder (hashed n-gram bag → dense, or a small transformer over word tokens), each pooled to an
 * embedding, and a fused embedding (concat | add | residual | cross-modal transformer over image
 * grid cells + text tokens). One tfjs LayersModel with one output per branch, so a head can sit
 * on any branch alone. Encoder `features` takes a precomputed feature vector per row instead (cached
 * frozen-encoder embeddings): the branch is then just the embedding layer, plus fusion.
 */
import * as tf from "@tensorflow/tfjs";
import { BatchNormLayer } from "./fused_layers";
import { GridCells, MaskedMeanPool, ModalityConcat, PositionEmbedding, StepDropout, TokenMask, TransformerBlock } from "./layers";
import { mobileNetV2 } from "./mobilenet_v2";
import { globalPool, type PoolingName } from "./pooling";
import { resNetFeatures } from "./resnet";
import { SeedSequence } from "./seeds";

/** An image encoder name. */
export type ImageEncoderName = "resnet" | "mobilenet_v2" | "features" | "none";
/** A text encoder name. */
export type TextEncoderName = "ngram" | "bag" | "transformer" | "features" | "none";
/** A fusion name. */
export type FusionName = "concat" | "add" | "residual" | "transformer" | "none";
/** A branch whose embedding a head can sit on. */
export type BranchName = "image" | "text" | "fused";

/** Image-encoder options. */
export interface ImageEncoderOptions {
  /** Encoder. Defaults to "resnet". */
  encoder?: ImageEncoderName;
  /** Input side in pixels. Defaults to 32. */
  size?: number;
  /** ResNet stage widths. Defaults to [16, 32, 64]. */
  widths?: number[];
  /** ResNet blocks per stage. Defaults to 1. */
  blocks?: number;
  /** Global pooling. Defaults to "gem". */
  pooling?: PoolingName;
  /** MobileNetV2 width multiplier. Defaults to 0.35. */
  alpha?: number;
  /** MobileNetV2's BatchNorm layers normalise with their moving statistics in training too (for a pretrained trunk). Defaults to false. */
  frozenBatchNorm?: boolean;
  /** Width of the precomputed feature vector (encoder `features`). Defaults to 0 (required for `features`). */
  featureDim?: number;
}

/** Text-encoder options. */
export interface TextEncoderOptions {
  /** Encoder. Defaults to "ngram". */
  encoder?: TextEncoderName;
  /** Hashed n-gram feature dimension. Defaults to 1024. */
  dim?: number;
  /** Token vocabulary (transformer, bag). Defaults to 4096. */
  vocab?: number;
  /** Token sequence length (transformer; bag: sub-word pieces per title). Defaults to 16. */
  maxLen?: number;
  /** Transformer width; bag: the width of each piece's learned vector. Defaults to 64. */
  width?: number;
  /** Transformer blocks. Defaults to 1. */
  layers?: number;
  /** Attention heads. Defaults to 4. */
  heads?: number;
  /** Width of the precomputed feature vector (encoder `features`). Defaults to 0 (required for `features`). */
  featureDim?: number;
}

/** Fusion options. */
export interface FusionOptions {
  /** How image and text combine. Defaults to "concat" (or "none" when a modality is off). */
  kind?: FusionName;
  /** Cross-modal transformer blocks. Defaults to 1. */
  layers?: number;
  /** Cross-modal transformer width. Defaults to 64. */
  width?: number;
  /** Attention heads. Defaults to 4. */
  heads?: number;
}

/** Options for {@link buildMatchModel}. */
export interface MatchModelOptions {
  image?: ImageEncoderOptions;
  text?: TextEncoderOptions;
  fusion?: FusionOptions;
  /** Embedding size of every branch. Defaults to 128. */
  embeddingDim?: number;
  /** Dropout before each embedding layer (seeded per step). Defaults to 0. */
  dropout?: number;
  /** Seed for every initialiser. Defaults to 0. */
  seed?: number;
}

/** The built model and how to feed it. */
export interface MatchModel {
  /** Inputs in order: image [B,S,S,3] (or [B,featureDim] features) if any, then text ([B,dim] float, [B,maxLen] int ids or [B,featureDim] features). Outputs: one [B, embeddingDim] embedding per branch, in `branches` order. */
  model: tf.LayersModel;
  branches: BranchName[];
  /** Resolved options (every default filled in). */
  options: Required<Omit<MatchModelOptions, "image" | "text" | "fusion">> & { image: Required<ImageEncoderOptions>; text: Required<TextEncoderOptions>; fusion: Required<FusionOptions> };
}

/** The image encoders. */
export const IMAGE_ENCODERS: readonly ImageEncoderName[] = Object.freeze(["resnet", "mobilenet_v2", "features", "none"]);
/** The text encoders. */
export const TEXT_ENCODERS: readonly TextEncoderName[] = Object.freeze(["ngram", "bag", "transformer", "features", "none"]);
/** The fusions. */
export const FUSIONS: readonly FusionName[] = Object.freeze(["concat", "add", "residual", "transformer", "none"]);

function check<T extends string>(what: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) throw new Error(`unknown ${what}: ${v} (expected ${allowed.join("|")})`);
}

/**
 * Builds the matching model.
 * @example
 * const { model, branches } = buildMatchModel({ image: { size: 32 }, text: { dim: 512 }, fusion: { kind: "concat" } });
 */
export function buildMatchModel(opts: MatchModelOptions = {}): MatchModel {
  const { embeddingDim = 128, dropout = 0, seed = 0 } = opts;
  const image: Required<ImageEncoderOptions> = { encoder: "resnet", size: 32, widths: [16, 32, 64], blocks: 1, pooling: "gem", alpha: 0.35, frozenBatchNorm: false, featureDim: 0, ...opts.image };
  const text: Required<TextEncoderOptions> = { encoder: "ngram", dim: 1024, vocab: 4096, maxLen: 16, width: 64, layers: 1, heads: 4, featureDim: 0, ...opts.text };
  const both = image.encoder !== "none" && text.encoder !== "none";
  const fusion: Required<FusionOptions> = { kind: both ? "concat" : "none", layers: 1, width: 64, heads: 4, ...opts.fusion };
  check("image encoder", image.encoder, IMAGE_ENCODERS);
  check("text encoder", text.encoder, TEXT_ENCODERS);
  check("fusion", fusion.kind, FUSIONS);
  if (image.encoder === "none" && text.encoder === "none") throw new Error("model: image.encoder and text.encoder are both none; enable at least one");
  if (fusion.kind !== "none" && !both) throw new Error(`model: fusion ${fusion.kind} needs both an image and a text encoder (set fusion: none)`);
  for (const [what, o] of [["image", image], ["text", text]] as const)
    if (o.encoder === "features" && !(Number.isInteger(o.featureDim) && o.featureDim >= 1)) throw new Error(`model: ${what} encoder features needs featureDim, a positive integer (got ${o.featureDim})`);
  if (fusion.kind === "transformer" && text.encoder !== "transformer") throw new Error("model: fusion transformer needs text.encoder: transformer (it attends over text tokens)");
  if (fusion.kind === "transformer" && image.encoder === "features") throw new Error("model: fusion transformer needs an image feature map (image.encoder resnet|mobilenet_v2), not pooled features");

  const seeds = new SeedSequence(seed);
  const inputs: tf.SymbolicTensor[] = [];
  const outputs: tf.SymbolicTensor[] = [];
  const branches: BranchName[] = [];
  let dropIdx = 0;
  const embed = (x: tf.SymbolicTensor, name: string) => {
    let h = x;
    if (dropout > 0) h = new StepDropout({ rate: dropout, seed: seeds.next() + dropIdx++, name: `${name}_dropout` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: embeddingDim, kernelInitializer: seeds.glorot() as never, name: `${name}_dense` }).apply(h) as tf.SymbolicTensor;
    return new BatchNormLayer({ momentum: 0.9, name: `${name}_bn` }).apply(h) as tf.SymbolicTensor;
  };

  let fmap: tf.SymbolicTensor | null = null;
  let imgPooled: tf.SymbolicTensor | null = null;
  if (image.encoder === "resnet") {
    const inp = tf.input({ shape: [image.size, image.size, 3], name: "image" });
    inputs.push(inp);
    fmap = resNetFeatures(inp, { widths: image.widths, blocks: image.blocks, seeds, prefix: "img" });
    imgPooled = globalPool(fmap, image.pooling, "img");
  } else if (image.encoder === "mobilenet_v2") {
    const inp = tf.input({ shape: [image.size, image.size, 3], name: "image" });
    inputs.push(inp);
    fmap = mobileNetV2({ alpha: image.alpha, inputSize: image.size, includeTop: false, pooling: "none", seed: seeds.next(), frozenBatchNorm: image.frozenBatchNorm }).apply(inp) as tf.SymbolicTensor;
    imgPooled = globalPool(fmap, image.pooling, "img");
  } else if (image.encoder === "features") {
    const inp = tf.input({ shape: [image.featureDim], name: "image_features" });
    inputs.push(inp);
    imgPooled = inp;
  }

  let txtVec: tf.SymbolicTensor | null = null;
  let txtTokens: tf.SymbolicTensor | null = null;
  let txtMask: tf.SymbolicTensor | null = null;
  if (text.encoder === "ngram") {
    const inp = tf.input({ shape: [text.dim], name: "text" });
    inputs.push(inp);
    txtVec = tf.layers.dense({ units: Math.max(embeddingDim, 128), activation: "relu", kernelInitializer: seeds.he() as never, name: "txt_hidden" }).apply(inp) as tf.SymbolicTensor;
  } else if (text.encoder === "bag") {
    const inp = tf.input({ shape: [text.maxLen], name: "pieces", dtype: "int32" });
    inputs.push(inp);
    const mask = new TokenMask({ name: "txt_mask" }).apply(inp) as tf.SymbolicTensor;
    const h = tf.layers.embedding({ inputDim: text.vocab, outputDim: text.width, embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: seeds.next() }) as never, name: "txt_embed" }).apply(inp) as tf.SymbolicTensor;
    txtVec = new MaskedMeanPool({ name: "txt_pool" }).apply([h, mask]) as tf.SymbolicTensor;
  } else if (text.encoder === "transformer") {
    const inp = tf.input({ shape: [text.maxLen], name: "tokens", dtype: "int32" });
    inputs.push(inp);
    txtMask = new TokenMask({ name: "txt_mask" }).apply(inp) as tf.SymbolicTensor;
    let h = tf.layers.embedding({ inputDim: text.vocab, outputDim: text.width, embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.02, seed: seeds.next() }) as never, name: "txt_embed" }).apply(inp) as tf.SymbolicTensor;
    h = new PositionEmbedding({ seed: seeds.next(), name: "txt_pos" }).apply(h) as tf.SymbolicTensor;
    for (let l = 0; l < text.layers; l++) h = new TransformerBlock({ heads: text.heads, seed: seeds.next(), name: `txt_block${l}` }).apply([h, txtMask]) as tf.SymbolicTensor;
    txtTokens = h;
    txtVec = new MaskedMeanPool({ name: "txt_pool" }).apply([h, txtMask]) as tf.SymbolicTensor;
  } else if (text.encoder === "features") {
    const inp = tf.input({ shape: [text.featureDim], name: "text_features" });
    inputs.push(inp);
    txtVec = inp;
  }

  let imgEmb: tf.SymbolicTensor | null = null;
  let txtEmb: tf.SymbolicTensor | null = null;
  if (imgPooled) {
    imgEmb = embed(imgPooled, "image_emb");
    outputs.push(imgEmb);
    branches.push("image");
  }
  if (txtVec) {
    txtEmb = embed(txtVec, "text_emb");
    outputs.push(txtEmb);
    branches.push("text");
  }
  if (fusion.kind !== "none") {
    let fused: tf.SymbolicTensor;
    switch (fusion.kind) {
      case "concat":
        fused = embed(tf.layers.concatenate({ name: "fuse_concat" }).apply([imgPooled!, txtVec!]) as tf.SymbolicTensor, "fused_emb");
        break;
      case "add":
        fused = tf.layers.add({ name: "fused_emb_add" }).apply([imgEmb!, txtEmb!]) as tf.SymbolicTensor;
        break;
      case "residual": {
        const cat = tf.layers.concatenate({ name: "fuse_concat" }).apply([imgEmb!, txtEmb!]) as tf.SymbolicTensor;
        const mix = tf.layers.dense({ units: embeddingDim, kernelInitializer: seeds.glorot() as never, name: "fuse_mix" }).apply(cat) as tf.SymbolicTensor;
        fused = tf.layers.add({ name: "fused_emb_residual" }).apply([imgEmb!, mix]) as tf.SymbolicTensor;
        break;
      }
      case "transformer": {
        const cells = new GridCells({ name: "fuse_cells" }).apply(fmap!) as tf.SymbolicTensor;
        const imgTok = tf.layers.dense({ units: fusion.width, kernelInitializer: seeds.glorot() as never, name: "fuse_img_proj" }).apply(cells) as tf.SymbolicTensor;
        const txtTok = tf.layers.dense({ units: fusion.width, kernelInitializer: seeds.glorot() as never, name: "fuse_txt_proj" }).apply(txtTokens!) as tf.SymbolicTensor;
        const [seq, mask] = new ModalityConcat({ seed: seeds.next(), name: "fuse_concat" }).apply([imgTok, txtTok, txtMask!]) as tf.SymbolicTensor[];
        let h = seq!;
        for (let l = 0; l < fusion.layers; l++) h = new TransformerBlock({ heads: fusion.heads, seed: seeds.next(), name: `fuse_block${l}` }).apply([h, mask!]) as tf.SymbolicTensor;
        fused = embed(new MaskedMeanPool({ name: "fuse_pool" }).apply([h, mask!]) as tf.SymbolicTensor, "fused_emb");
        break;
      }
    }
    outputs.push(fused);
    branches.push("fused");
  }
  const model = tf.model({ inputs, outputs, name: "match_model" });
  return { model, branches, options: { embeddingDim, dropout, seed, image, text, fusion } };
}
