import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { simdKernels } from "../../src/backend/simd_kernels";
import { refCnn } from "../../src/models/ref_cnn";
import { describeWasmKernels } from "./conv_suite";

// The threaded SIMD wasm build under Node worker threads (its own test file: a tfjs backend
// initialises once per process).
// matchlab's SIMD kernels then split their work over the calling thread and a worker on the shared heap.
beforeAll(async () => {
  process.env.MATCHLAB_WASM_SPLIT = "always"; // the suite's small shapes still go through the worker pool
  const info = await initBackend({ backend: "wasm", threads: 2, log: () => {} });
  expect(info.backend).toBe("wasm");
  expect(info.threads).toBe(2);
  expect(info.fallbacks.filter((f) => f.startsWith("wasm threads"))).toEqual([]);
});

describe("wasm with 2 threads", () => {
  it("SIMD kernels run on 2 threads; a kernel that fails on the worker throws here and the pool goes on", () => {
    const k = simdKernels(tf.backend() as never)!;
    expect(k.threads).toBe(2);
    expect(k.relaxed).toBe(true);
    const outOfBounds = { fn: "maxpool_grad_2x2" as const, args: [-64, -64, -64, 1, 2, 2, 4, 1, 1] };
    const nothing = { fn: "maxpool_grad_2x2" as const, args: [0, 0, 0, 0, 2, 2, 4, 1, 1] }; // n = 0: returns at once
    expect(() => k.run([nothing, outOfBounds])).toThrow(/SIMD kernel failed on a worker: .*out of bounds/);
    expect(() => k.run([outOfBounds, nothing])).toThrow(/out of bounds/);
    expect(() => k.run([nothing, nothing])).not.toThrow();
  });

  it("initialises the threaded build and computes the same training gradients as cpu", async () => {
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

describeWasmKernels("2 threads");
