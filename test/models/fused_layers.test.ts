import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ConvBiasActLayer, Relu6Layer } from "../../src/models/fused_layers";

describe("ConvBiasActLayer", () => {
  it("computes what tf.layers.conv2d computes with the same weights; shapes for same/valid and strides", () => {
    for (const [padding, strides] of [
      ["same", 1],
      ["valid", 2],
    ] as Array<["same" | "valid", number]>) {
      const ours = new ConvBiasActLayer({ filters: 8, kernelSize: 3, strides, padding, activation: "relu", kernelSeed: 4 });
      const ref = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides, padding, activation: "relu" });
      const x = tf.randomNormal([2, 9, 7, 5], 0, 1, "float32", 3);
      const a = ours.apply(x) as tf.Tensor;
      ref.apply(x);
      ref.setWeights(ours.getWeights().map((w) => w.clone()));
      const b = ref.apply(x) as tf.Tensor;
      expect(a.shape).toEqual(b.shape);
      expect(ours.computeOutputShape([null, 9, 7, 5])).toEqual([null, ...b.shape.slice(1)]);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
      expect(ours.getWeights().map((w) => w.shape)).toEqual([
        [3, 3, 5, 8],
        [8],
      ]);
      tf.dispose([x, a, b]);
    }
  });

  it("round-trips through a model's JSON (registered class, same config)", () => {
    const input = tf.input({ shape: [6, 6, 3] });
    const out = new ConvBiasActLayer({ filters: 4, strides: 2, padding: "valid", activation: "linear", kernelSeed: 9, name: "cba" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const json = JSON.parse(JSON.stringify(model.toJSON(null, false)));
    return tf.models.modelFromJSON(json).then((copy) => {
      const layer = copy.getLayer("cba") as ConvBiasActLayer;
      expect(layer).toBeInstanceOf(ConvBiasActLayer);
      expect([layer.filters, layer.kernelSize, layer.strides, layer.padding, layer.activation, layer.kernelSeed]).toEqual([4, 3, 2, "valid", "linear", 9]);
      // the same seed builds the same kernel
      expect(layer.getWeights()[0]!.arraySync()).toEqual(model.getLayer("cba").getWeights()[0]!.arraySync());
      copy.dispose();
      model.dispose();
    });
  });

  it("rejects bad options with what was wrong", () => {
    expect(() => new ConvBiasActLayer({ filters: 0 })).toThrow("ConvBiasActLayer: filters must be a positive integer, got 0");
    expect(() => new ConvBiasActLayer({ filters: 4, padding: "causal" as never })).toThrow(/padding must be "same" or "valid"/);
    expect(() => new ConvBiasActLayer({ filters: 4, activation: "tanh" as never })).toThrow(/activation must be "relu" or "linear"/);
    expect(() => new ConvBiasActLayer({ filters: 4 }).apply(tf.input({ shape: [5, 3] }))).toThrow(/expects NHWC input/);
  });
});

describe("Relu6Layer", () => {
  it("computes tfjs' relu6 activation and round-trips through a model's JSON", async () => {
    const input = tf.input({ shape: [4, 3] });
    const out = new Relu6Layer({ name: "r6" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.tensor3d([[[-1, 0, 3], [6, 7, 2.5], [0.1, -0.1, 6.1], [5.9, 1, 100]]]);
    const ref = tf.layers.activation({ activation: "relu6" }).apply(x) as tf.Tensor;
    const y = model.predict(x) as tf.Tensor;
    expect(y.arraySync()).toEqual(ref.arraySync());
    const copy = await tf.models.modelFromJSON(JSON.parse(JSON.stringify(model.toJSON(null, false))));
    expect(copy.getLayer("r6")).toBeInstanceOf(Relu6Layer);
    tf.dispose([x, ref, y]);
    copy.dispose();
    model.dispose();
  });
});
