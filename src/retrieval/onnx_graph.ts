/**
 * A minimal ONNX model writer: the subset of onnx.proto (field numbers as in onnx/onnx.proto3)
 * needed to build small compute graphs in JS with protobufjs, so onnxruntime-node's native
 * kernels (MLAS GEMM, TopK) run them without any build step or model file.
 */
import protobuf from "protobufjs";

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            producerVersion: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            modelVersion: { type: "int64", id: 5 },
            docString: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            docString: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            domain: { type: "string", id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            floats: { rule: "repeated", type: "float", id: 7 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            type: { type: "int32", id: 20 },
          },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } } },
        TypeProto: { fields: { tensorType: { type: "TypeProtoTensor", id: 1 } } },
        TypeProtoTensor: { fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } } },
        Dimension: { fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            floatData: { rule: "repeated", type: "float", id: 4 },
            int64Data: { rule: "repeated", type: "int64", id: 7 },
            name: { type: "string", id: 8 },
            rawData: { type: "bytes", id: 9 },
          },
        },
      },
    },
  },
};

/** ONNX element types used here (TensorProto.DataType). */
export const ONNX_DTYPE = Object.freeze({ float: 1, int32: 6, int64: 7 });

/** ONNX attribute kinds (AttributeProto.AttributeType). */
const ATTR = Object.freeze({ float: 1, int: 2, floats: 6, ints: 7 });

let root: protobuf.Root | null = null;
function modelType(): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_SCHEMA);
  return root.lookupType("onnx.ModelProto");
}

/** A dimension: a fixed size or a symbolic name. */
export type OnnxDim = number | string;

/** A graph input or output: name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  dtype: keyof typeof ONNX_DTYPE;
  shape: OnnxDim[];
}

/** A node attribute value: numbers become INT (integers) or FLOAT per `floatAttrs`. */
export type OnnxAttrValue = number | number[];

/** One node of the graph. */
export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (INT / INTS). */
  ints?: Record<string, number | number[]>;
  /** Float attributes (FLOAT / FLOATS). */
  floats?: Record<string, number | number[]>;
}

/** A constant tensor baked into the model. */
export interface OnnxInitializer {
  name: string;
  dtype: "float" | "int64";
  dims: number[];
  values: ArrayLike<number>;
}

/** Options for {@link buildOnnxModel}. */
export interface OnnxModelSpec {
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Constants. Defaults to none. */
  initializers?: OnnxInitializer[];
  /** The default-domain opset. Defaults to 17. */
  opset?: number;
  /** The graph name. Defaults to "matchlab". */
  name?: string;
}

function valueInfo(v: OnnxValueInfo) {
  const dtype = ONNX_DTYPE[v.dtype];
  if (dtype === undefined) throw new Error(`unknown dtype: ${v.dtype} (expected ${Object.keys(ONNX_DTYPE).join("|")})`);
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: dtype,
        shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Serialises a graph to ONNX model bytes, ready for `InferenceSession.create(bytes)`.
 * @example
 * const bytes = buildOnnxModel({
 *   nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
 *   inputs: [{ name: "a", dtype: "float", shape: ["m", 4] }, { name: "b", dtype: "float", shape: [4, "n"] }],
 *   outputs: [{ name: "c", dtype: "float", shape: ["m", "n"] }],
 * });
 */
export function buildOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const { nodes, inputs, outputs, initializers = [], opset = 17, name = "matchlab" } = spec;
  const attrs = (n: OnnxNode) => {
    const out: object[] = [];
    for (const [k, v] of Object.entries(n.ints ?? {})) {
      out.push(Array.isArray(v) ? { name: k, type: ATTR.ints, ints: v } : { name: k, type: ATTR.int, i: v });
    }
    for (const [k, v] of Object.entries(n.floats ?? {})) {
      out.push(Array.isArray(v) ? { name: k, type: ATTR.floats, floats: v } : { name: k, type: ATTR.float, f: v });
    }
    return out;
  };
  const msg = {
    irVersion: 8,
    producerName: "matchlab",
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name,
      node: nodes.map((n, i) => ({ name: `${n.opType}_${i}`, opType: n.opType, input: n.inputs, output: n.outputs, attribute: attrs(n) })),
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
      initializer: initializers.map((t) =>
        t.dtype === "float"
          ? { name: t.name, dataType: ONNX_DTYPE.float, dims: t.dims, floatData: Array.from(t.values) }
          : { name: t.name, dataType: ONNX_DTYPE.int64, dims: t.dims, int64Data: Array.from(t.values) },
      ),
    },
  };
  const type = modelType();
  const err = type.verify(msg);
  if (err) throw new Error(`buildOnnxModel: invalid model: ${err}`);
  return type.encode(type.fromObject(msg)).finish();
}
