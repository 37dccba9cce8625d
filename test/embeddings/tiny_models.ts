/**
 * Generators for tiny random-weight models in transformers.js layout (config.json, tokenizer.json,
 * tokenizer_config.json / preprocessor_config.json, onnx/model.onnx), written by hand with
 * protobufjs so that no binary blob is committed. The weights come from a seeded Rng, so the
 * same seed writes byte-identical files.
 *
 * - text (`writeTinyBert`): input_ids → Gather(word_emb) + Gather(type_emb, token_type_ids)
 *   → MatMul(W) + b → Tanh → last_hidden_state [batch, seq, hidden]
 * - image (`writeTinyVit`): pixel_values [b,3,S,S] → Conv(patch, stride patch) → Reshape
 *   [b, hidden, n] → Transpose [b, n, hidden] → MatMul(W) → Tanh → last_hidden_state [b, n, hidden]
 *
 * The numpy-free reference forward passes (`tinyBertForward`, `tinyVitForward`) recompute the
 * same graph with plain loops, so tests can compare the ONNX runtime's output to them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import { Rng } from "../../src/rng";

const ONNX_PROTO = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
}
message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  int32 type = 20;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], data: Float32Array) {
  return {
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function int64Tensor(name: string, values: number[]) {
  const buf = new BigInt64Array(values.map((v) => BigInt(v)));
  return {
    name,
    dims: [values.length],
    dataType: INT64,
    rawData: new Uint8Array(buf.buffer),
  };
}

function node(opType: string, input: string[], output: string[], attribute: object[] = []) {
  return { opType, input, output, name: `${opType}_${output[0]}`, attribute };
}

function encodeModel(graph: object): Uint8Array {
  const root = protobuf.parse(ONNX_PROTO, { keepCase: false }).root;
  const Model = root.lookupType("onnx.ModelProto");
  const msg = Model.fromObject({
    irVersion: 8,
    producerName: "matchlab-test",
    producerVersion: "1",
    opsetImport: [{ domain: "", version: 14 }],
    graph,
  });
  return Model.encode(msg).finish();
}

function randn(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** The tiny text model's weights (row-major). */
export interface TinyBertWeights {
  vocab: string[];
  hidden: number;
  wordEmb: Float32Array; // [V, H]
  typeEmb: Float32Array; // [2, H]
  w: Float32Array; // [H, H]
  b: Float32Array; // [H]
}

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const WORDS = ["face", "smiling", "red", "heart", "cat", "dog", "with", "the", "and", "blue", "green", "star", "hand", "sun"];
const LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789".split("");

/** Builds the tiny vocab: specials, a few whole words, letters, and `##`-letters. */
export function tinyVocab(): string[] {
  return [...SPECIALS, ...WORDS, ...LETTERS, ...LETTERS.map((c) => `##${c}`), ".", ",", "-", "!", "'"];
}

/**
 * Writes a tiny BERT-style feature-extraction model into `dir` and returns its weights.
 * @example writeTinyBert(path.join(tmp, "tiny-bert"), { seed: 1 })
 */
export function writeTinyBert(dir: string, { seed = 1, hidden = 8, maxLength = 32 } = {}): TinyBertWeights {
  const rng = Rng.derive(seed, "tiny-bert");
  const vocab = tinyVocab();
  const V = vocab.length;
  const weights: TinyBertWeights = {
    vocab,
    hidden,
    wordEmb: randn(rng, V * hidden, 1),
    typeEmb: randn(rng, 2 * hidden, 0.1),
    w: randn(rng, hidden * hidden, 1 / Math.sqrt(hidden)),
    b: randn(rng, hidden, 0.1),
  };
  const graph = {
    name: "tiny_bert",
    node: [
      node("Gather", ["word_emb", "input_ids"], ["we"], [{ name: "axis", i: 0, type: ATTR_INT }]),
      node("Gather", ["type_emb", "token_type_ids"], ["te"], [{ name: "axis", i: 0, type: ATTR_INT }]),
      node("Add", ["we", "te"], ["emb"]),
      node("MatMul", ["emb", "w"], ["h"]),
      node("Add", ["h", "b"], ["hb"]),
      node("Tanh", ["hb"], ["last_hidden_state"]),
    ],
    initializer: [
      floatTensor("word_emb", [V, hidden], weights.wordEmb),
      floatTensor("type_emb", [2, hidden], weights.typeEmb),
      floatTensor("w", [hidden, hidden], weights.w),
      floatTensor("b", [hidden], weights.b),
    ],
    input: [
      valueInfo("input_ids", INT64, ["batch_size", "sequence_length"]),
      valueInfo("attention_mask", INT64, ["batch_size", "sequence_length"]),
      valueInfo("token_type_ids", INT64, ["batch_size", "sequence_length"]),
    ],
    output: [valueInfo("last_hidden_state", FLOAT, ["batch_size", "sequence_length", hidden])],
  };
  mkdirSync(path.join(dir, "onnx"), { recursive: true });
  writeFileSync(path.join(dir, "onnx", "model.onnx"), encodeModel(graph));
  writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify(
      {
        model_type: "bert",
        architectures: ["BertModel"],
        hidden_size: hidden,
        vocab_size: V,
        num_attention_heads: 1,
        num_hidden_layers: 1,
        max_position_embeddings: maxLength,
        type_vocab_size: 2,
      },
      null,
      2,
    ),
  );
  const vocabMap: Record<string, number> = {};
  vocab.forEach((t, i) => {
    vocabMap[t] = i;
  });
  const special = (t: string) => ({
    id: vocabMap[t],
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [vocabMap["[CLS]"]], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [vocabMap["[SEP]"]], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: vocabMap,
    },
  };
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      model_max_length: maxLength,
      do_lower_case: true,
      pad_token: "[PAD]",
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    }),
  );
  return weights;
}

/** Plain-loop forward pass of the tiny BERT for given token ids (type ids all 0): [seq, H]. */
export function tinyBertForward(wt: TinyBertWeights, ids: number[]): Float32Array {
  const H = wt.hidden;
  const out = new Float32Array(ids.length * H);
  for (let t = 0; t < ids.length; t++) {
    for (let j = 0; j < H; j++) {
      let s = wt.b[j]!;
      for (let k = 0; k < H; k++) s += (wt.wordEmb[ids[t]! * H + k]! + wt.typeEmb[k]!) * wt.w[k * H + j]!;
      out[t * H + j] = Math.tanh(s);
    }
  }
  return out;
}

/** The tiny image model's weights. */
export interface TinyVitWeights {
  size: number;
  patch: number;
  hidden: number;
  conv: Float32Array; // [H, 3, P, P]
  convB: Float32Array; // [H]
  w: Float32Array; // [H, H]
}

/**
 * Writes a tiny ViT-style image-feature-extraction model into `dir` and returns its weights.
 * Its processor resizes to `size`, rescales by 1/255 and normalises with mean 0.5, std 0.5.
 */
export function writeTinyVit(dir: string, { seed = 2, size = 8, patch = 4, hidden = 6 } = {}): TinyVitWeights {
  const rng = Rng.derive(seed, "tiny-vit");
  const wt: TinyVitWeights = {
    size,
    patch,
    hidden,
    conv: randn(rng, hidden * 3 * patch * patch, 1 / Math.sqrt(3 * patch * patch)),
    convB: randn(rng, hidden, 0.1),
    w: randn(rng, hidden * hidden, 1 / Math.sqrt(hidden)),
  };
  const graph = {
    name: "tiny_vit",
    node: [
      node(
        "Conv",
        ["pixel_values", "conv_w", "conv_b"],
        ["patches"],
        [
          { name: "kernel_shape", ints: [patch, patch], type: ATTR_INTS },
          { name: "strides", ints: [patch, patch], type: ATTR_INTS },
        ],
      ),
      node("Reshape", ["patches", "shape"], ["flat"]),
      node("Transpose", ["flat"], ["tokens"], [{ name: "perm", ints: [0, 2, 1], type: ATTR_INTS }]),
      node("MatMul", ["tokens", "w"], ["h"]),
      node("Tanh", ["h"], ["last_hidden_state"]),
    ],
    initializer: [
      floatTensor("conv_w", [hidden, 3, patch, patch], wt.conv),
      floatTensor("conv_b", [hidden], wt.convB),
      floatTensor("w", [hidden, hidden], wt.w),
      int64Tensor("shape", [0, hidden, -1]),
    ],
    input: [valueInfo("pixel_values", FLOAT, ["batch_size", 3, size, size])],
    output: [valueInfo("last_hidden_state", FLOAT, ["batch_size", (size / patch) ** 2, hidden])],
  };
  mkdirSync(path.join(dir, "onnx"), { recursive: true });
  writeFileSync(path.join(dir, "onnx", "model.onnx"), encodeModel(graph));
  writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify(
      {
        model_type: "vit",
        architectures: ["ViTModel"],
        hidden_size: hidden,
        image_size: size,
        patch_size: patch,
        num_channels: 3,
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(dir, "preprocessor_config.json"),
    JSON.stringify(
      {
        image_processor_type: "ViTImageProcessor",
        feature_extractor_type: "ViTFeatureExtractor",
        do_resize: true,
        size: { height: size, width: size },
        resample: 2,
        do_rescale: true,
        rescale_factor: 1 / 255,
        do_normalize: true,
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.5, 0.5, 0.5],
      },
      null,
      2,
    ),
  );
  return wt;
}

/** Plain-loop forward pass of the tiny ViT on a CHW float image already preprocessed: [n, H]. */
export function tinyVitForward(wt: TinyVitWeights, chw: Float32Array): Float32Array {
  const { size: S, patch: P, hidden: H } = wt;
  const g = S / P;
  const n = g * g;
  const tokens = new Float32Array(n * H);
  for (let py = 0; py < g; py++) {
    for (let px = 0; px < g; px++) {
      for (let o = 0; o < H; o++) {
        let s = wt.convB[o]!;
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < P; ky++) {
            for (let kx = 0; kx < P; kx++) {
              s += wt.conv[((o * 3 + c) * P + ky) * P + kx]! * chw[(c * S + py * P + ky) * S + px * P + kx]!;
            }
          }
        }
        tokens[(py * g + px) * H + o] = s;
      }
    }
  }
  const out = new Float32Array(n * H);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < H; j++) {
      let s = 0;
      for (let k = 0; k < H; k++) s += tokens[t * H + k]! * wt.w[k * H + j]!;
      out[t * H + j] = Math.tanh(s);
    }
  }
  return out;
}
