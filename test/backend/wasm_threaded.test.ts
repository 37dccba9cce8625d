import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { refCnn } from "../../src/models/ref_cnn";

// The threaded SIMD wasm build under Node worker threads (its own test file: a tfjs backend
// initialises once per process).
describe("wasm with 2 XNNPACK threads", () => {
  it("initialises the threaded build and computes the same training gradients as cpu", async () => {
    const info = await initBackend({ backend: "wasm", threads: 2, log: () => {} });
    expect(info.backend).toBe("wasm");
    expect(info.threads).toBe(2);
    expect(info.fallbacks.filter((f) => f.startsWith("wasm threads"))).toEqual([]);
    const model = refCnn({ inputShape: [20, 20, 3], filters: [8, 8, 16], classes: 4, seed: 5 });
    const x = tf.randomNormal([6, 20, 20, 3], 0, 1, "float32", 9);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], "int32"), 4);
    const grads = async (b: string) => {
      await tf.setBackend(b);
      const { value, grads: g } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      const out = await Promise.all(Object.values(g).map((t) => t.data()));
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const before = tf.memory().numTensors;
    const w = await grads("wasm");
    const c = await grads("cpu");
    await tf.setBackend("wasm");
    expect(tf.memory().numTensors).toBe(before);
    w.forEach((g, i) => {
      let m = 0;
      let s = 0;
      for (let k = 0; k < g.length; k++) {
        m = Math.max(m, Math.abs(g[k]! - c[i]![k]!));
        s = Math.max(s, Math.abs(c[i]![k]!));
      }
      expect(m / (s || 1)).toBeLessThan(1e-4);
    });
    tf.dispose([x, y]);
    model.dispose();
  });
});
