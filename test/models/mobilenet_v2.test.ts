import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { makeDivisible, mobileNetV2 } from "../../src/models/mobilenet_v2";

describe("mobileNetV2", () => {
  it("matches keras.applications.MobileNetV2(alpha=1.0, classes=1000): 3,538,984 weights, 1280-d features", () => {
    const m = mobileNetV2({ alpha: 1.0, inputSize: 96, classes: 1000 });
    expect(m.countParams()).toBe(3538984);
    expect(m.outputs[0]!.shape).toEqual([null, 1000]);
    expect(m.getLayer("block_16_project").outputShape).toEqual([null, 3, 3, 320]);
    expect(m.layers.filter((l) => l.getClassName() === "DepthwiseConv2D")).toHaveLength(17);
    expect(m.layers.filter((l) => l.getClassName() === "Add")).toHaveLength(10);
    m.dispose();
  });

  it("rounds widths like the reference code", () => {
    expect(makeDivisible(32 * 0.35)).toBe(16);
    expect(makeDivisible(16 * 0.35)).toBe(8);
    expect(makeDivisible(24 * 0.5)).toBe(16);
    expect(makeDivisible(96 * 0.75)).toBe(72);
    expect(makeDivisible(1280 * 1.4)).toBe(1792);
  });

  it("without the top gives pooled or spatial features", () => {
    const avg = mobileNetV2({ alpha: 0.35, inputSize: 64, includeTop: false, pooling: "avg" });
    const max = mobileNetV2({ alpha: 0.35, inputSize: 64, includeTop: false, pooling: "max" });
    const none = mobileNetV2({ alpha: 0.35, inputSize: 64, includeTop: false, pooling: "none" });
    expect(avg.outputs[0]!.shape).toEqual([null, 1280]);
    expect(max.outputs[0]!.shape).toEqual([null, 1280]);
    expect(none.outputs[0]!.shape).toEqual([null, 2, 2, 1280]);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => (avg.predict(tf.ones([2, 64, 64, 3])) as tf.Tensor).shape);
    expect(y).toEqual([2, 1280]);
    expect(tf.memory().numTensors).toBe(before);
    for (const m of [avg, max, none]) m.dispose();
  });

  it("is deterministic under a seed", () => {
    const w = (seed: number) => {
      const m = mobileNetV2({ alpha: 0.35, inputSize: 32, classes: 3, seed });
      const v = Array.from(m.getLayer("block_3_depthwise").getWeights()[0]!.dataSync().slice(0, 16));
      m.dispose();
      return v;
    };
    expect(w(4)).toEqual(w(4));
    expect(w(4)).not.toEqual(w(5));
  });

  it("rejects bad options", () => {
    expect(() => mobileNetV2({ pooling: "gem" as never, includeTop: false })).toThrow("unknown pooling: gem (expected avg|max|none)");
    expect(() => mobileNetV2({ alpha: 0 })).toThrow(/alpha must be > 0/);
    expect(() => mobileNetV2({ inputSize: 16 })).toThrow(/inputSize must be an integer ≥ 32/);
  });
});
