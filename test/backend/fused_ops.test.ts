import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { conv2dBiasAct, initBackend, RELU_GRAD_BIAS, RELU6_GRAD, relu6Fused } from "../../src/backend/index";
import { expectKernelMatches, randn, t4 } from "./conv_suite";

// conv2dBiasAct (fused conv + bias + activation with its own gradient) against the unfused tfjs ops,
// on wasm (FusedConv2D + matchlab's ReLU-and-bias gradient kernel) and on cpu (the composed gradient).

beforeAll(async () => {
  expect((await initBackend({ backend: "wasm", log: () => {} })).backend).toBe("wasm");
});

/** Gradients of Σ sin-weighted outputs w.r.t. x, filter and bias, through `conv`. */
function grads(conv: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D, x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor[] {
  return tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
    const y = conv(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D);
    return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
  })([x, w, b]);
}

/** max |a − b| / max |b| over all elements of each pair. */
async function expectClose(a: tf.Tensor[], b: tf.Tensor[], tol: number): Promise<void> {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(a[i]!.shape).toEqual(b[i]!.shape);
    const [u, v] = [await a[i]!.data(), await b[i]!.data()];
    let m = 0;
    let s = 0;
    for (let k = 0; k < u.length; k++) {
      m = Math.max(m, Math.abs(u[k]! - v[k]!));
      s = Math.max(s, Math.abs(v[k]!));
    }
    expect(m / (s || 1), `input ${i}`).toBeLessThan(tol);
  }
}

describe("conv2dBiasAct", () => {
  const cases: Array<[number[], number, number, "same" | "valid", "relu" | "linear"]> = [
    [[2, 9, 10, 8], 16, 1, "same", "relu"],
    [[3, 7, 7, 5], 6, 2, "valid", "relu"],
    [[2, 8, 6, 12], 8, 2, "same", "linear"],
    [[1, 5, 3, 3], 4, 1, "same", "relu"],
  ];
  for (const backend of ["wasm", "cpu"]) {
    for (const [xs, co, s, pad, act] of cases) {
      it(`${backend}: value and gradients match the unfused ops (${xs} → ${co}, s${s}, ${pad}, ${act}); no leaks`, async () => {
        await tf.setBackend(backend);
        const x = t4(randn(xs, 1));
        const w = t4(randn([3, 3, xs[3]!, co], 2));
        const b = tf.tensor1d(randn([co], 3).data);
        const before = tf.memory().numTensors;
        const unfused = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) => {
          const z = tf.add(tf.conv2d(xx, ww, s, pad), bb) as tf.Tensor4D;
          return act === "relu" ? tf.relu(z) : z;
        };
        const fused = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) => conv2dBiasAct(xx, ww, bb, { strides: s, pad, activation: act });
        const [yf, yu] = tf.tidy(() => [fused(x, w, b), unfused(x, w, b)]);
        await expectClose([yf], [yu], 1e-5);
        const [gf, gu] = [grads(fused, x, w, b), grads(unfused, x, w, b)];
        await expectClose(gf, gu, 1e-4);
        tf.dispose([yf, yu, ...gf, ...gu]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w, b]);
        await tf.setBackend("wasm");
      });
    }
  }

  it(`${RELU_GRAD_BIAS} on wasm (SIMD for 4k channels, a loop otherwise) matches dy·step(y) and its sums`, async () => {
    for (const shape of [
      [2, 5, 7, 8],
      [3, 4, 4, 6],
      [1, 1, 1, 4],
    ]) {
      const y = () => tf.relu(t4(randn(shape, 5)));
      const dy = () => t4(randn(shape, 6));
      for (const k of [0, 1]) {
        await expectKernelMatches(() => {
          if (tf.getBackend() === "cpu") {
            const z = tf.mul(dy(), tf.step(y()));
            return k === 0 ? z : tf.sum(z, [0, 1, 2]);
          }
          return (tf.engine().runKernel(RELU_GRAD_BIAS, { dy: dy(), y: y() }, {}) as unknown as tf.Tensor[])[k]!;
        });
      }
    }
    expect(() => tf.engine().runKernel(RELU_GRAD_BIAS, { dy: tf.zeros([2, 3]), y: tf.zeros([3, 2]) }, {})).toThrow(/one shape/);
  });

  it("rejects an unknown activation; dilated convs take tfjs' unfused path", () => {
    const x = tf.zeros([1, 6, 6, 2]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 8]) as tf.Tensor4D;
    const b = tf.zeros([8]) as tf.Tensor1D;
    expect(() => conv2dBiasAct(x, w, b, { activation: "elu" as never })).toThrow('conv2dBiasAct: activation must be "relu" or "linear", got elu');
    const y = conv2dBiasAct(x, w, b, { dilations: 2, activation: "relu" });
    expect(y.shape).toEqual([1, 6, 6, 8]);
    tf.dispose([x, w, b, y]);
  });
});

describe("relu6Fused", () => {
  for (const backend of ["wasm", "cpu"]) {
    it(`${backend}: the values and gradient of tf.relu6 (including x = 0 and x = 6 exactly, odd sizes); no leaks`, async () => {
      await tf.setBackend(backend);
      for (const shape of [
        [2, 5, 4, 8],
        [3, 7],
      ]) {
        const r = randn(shape, 9);
        const data = r.data.map((v, i) => (i % 7 === 0 ? 6 : i % 11 === 0 ? 0 : v * 5));
        const x = tf.tensor(data, shape);
        const before = tf.memory().numTensors;
        const weights = tf.tidy(() => tf.sin(tf.range(0, x.size).reshape(shape)));
        const [yf, yr] = tf.tidy(() => [relu6Fused(x), tf.relu6(x)]);
        await expectClose([yf], [yr], 1e-7);
        const [gf, gr] = [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu6Fused(t), weights)))(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu6(t), weights)))(x)];
        await expectClose([gf], [gr], 1e-7);
        tf.dispose([yf, yr, gf, gr, weights]);
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
      }
      await tf.setBackend("wasm");
    });
  }

  it(`${RELU6_GRAD} checks its inputs`, async () => {
    await tf.setBackend("wasm");
    expect(() => tf.engine().runKernel(RELU6_GRAD, { dy: tf.zeros([4]), x: tf.zeros([2, 2]) }, {})).toThrow(/one shape/);
  });
});
