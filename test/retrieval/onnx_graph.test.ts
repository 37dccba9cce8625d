import { describe, expect, it } from "vitest";
import { buildOnnxModel, knnOnnxModel } from "../../src/retrieval/index";

describe("ONNX graph builder", () => {
  it("builds a model onnxruntime-node runs: Gemm with attributes and an initializer", async () => {
    const ort = await import("onnxruntime-node");
    const bytes = buildOnnxModel({
      nodes: [
        { opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"], ints: { transB: 1 }, floats: { alpha: 2, beta: 1 } },
        { opType: "ReduceMax", inputs: ["y", "axes"], outputs: ["m"], ints: { keepdims: 0 } },
      ],
      inputs: [
        { name: "a", dtype: "float", shape: ["m", 2] },
        { name: "b", dtype: "float", shape: [3, 2] },
      ],
      outputs: [
        { name: "y", dtype: "float", shape: ["m", 3] },
        { name: "m", dtype: "float", shape: ["m"] },
      ],
      initializers: [
        { name: "c", dtype: "float", dims: [1, 3], values: [0.5, 0, -0.5] },
        { name: "axes", dtype: "int64", dims: [1], values: [1] },
      ],
      opset: 18,
    });
    const s = await ort.InferenceSession.create(bytes);
    const out = await s.run({ a: new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4]), [2, 2]), b: new ort.Tensor("float32", Float32Array.from([1, 0, 0, 1, 1, 1]), [3, 2]) });
    // y = 2 a bᵀ + c
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2.5, 4, 5.5, 6.5, 8, 13.5]);
    expect(Array.from(out.m!.data as Float32Array)).toEqual([5.5, 13.5]);
  });

  it("rejects unknown dtypes and serialises the knn graph", () => {
    expect(() => buildOnnxModel({ nodes: [], inputs: [{ name: "a", dtype: "half" as never, shape: [1] }], outputs: [] })).toThrow(/expected float\|int32\|int64/);
    expect(knnOnnxModel(8, "cosine").length).toBeGreaterThan(100);
  });
});
