import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { refCnn } from "../../src/models/ref_cnn";

describe("refCnn", () => {
  it("has the documented layout: 3 conv stages, GAP, dense softmax; 94,538 weights at the defaults", () => {
    const m = refCnn();
    expect(m.inputs[0]!.shape).toEqual([null, 64, 64, 3]);
    expect(m.outputs[0]!.shape).toEqual([null, 10]);
    // (3·9·32+32) + (32·9·64+64) + (64·9·128+128) + (128·10+10)
    expect(m.countParams()).toBe(896 + 18496 + 73856 + 1290);
    expect(m.layers.map((l) => l.getClassName())).toEqual(["InputLayer", "MatchlabConvBiasAct", "MaxPooling2D", "MatchlabConvBiasAct", "MaxPooling2D", "MatchlabConvBiasAct", "GlobalAveragePooling2D", "Dense"]);
    m.dispose();
  });

  it("predicts probabilities and builds the same weights under the same seed", () => {
    const a = refCnn({ inputShape: [12, 12, 3], filters: [4, 4, 8], classes: 3, seed: 7 });
    const b = refCnn({ inputShape: [12, 12, 3], filters: [4, 4, 8], classes: 3, seed: 7 });
    const c = refCnn({ inputShape: [12, 12, 3], filters: [4, 4, 8], classes: 3, seed: 8 });
    const before = tf.memory().numTensors;
    const [pa, pb, pc] = tf.tidy(() => {
      const x = tf.randomNormal([2, 12, 12, 3], 0, 1, "float32", 1);
      return [a, b, c].map((m) => (m.predict(x) as tf.Tensor).arraySync() as number[][]);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(pa).toEqual(pb);
    expect(pa).not.toEqual(pc);
    for (const row of pa!) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    for (const m of [a, b, c]) m.dispose();
  });

  it("rejects bad options with what was wrong", () => {
    expect(() => refCnn({ classes: 0 })).toThrow("refCnn: classes must be a positive integer, got 0");
    expect(() => refCnn({ filters: [8, 8] as never })).toThrow(/filters must be 3 positive integers/);
    expect(() => refCnn({ inputShape: [64, 64] as never })).toThrow(/inputShape must be \[h, w, c\]/);
  });
});
