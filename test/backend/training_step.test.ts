import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { mobileNetV2 } from "../../src/models/mobilenet_v2";
import { refCnn } from "../../src/models/ref_cnn";
import { Rng } from "../../src/rng";

// A full training step of the reference CNN and of MobileNetV2 runs on wasm with matchlab's
// kernels; its gradients match the cpu backend's, and repeated steps leak no tensors.

function batch(n: number, size: number, classes: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const r = new Rng(seed);
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  return { x: tf.tensor4d(data, [n, size, size, 3]), y: tf.oneHot(tf.tensor1d(labels, "int32"), classes) as tf.Tensor2D };
}

function lossOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): () => tf.Scalar {
  return () => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
}

/** Gradients of every trainable weight on the current backend, as arrays keyed by weight name. */
async function gradsOn(backend: string, model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const { value, grads } = tf.variableGrads(lossOf(model, x, y));
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads)) out.set(k, (await g.data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function maxAbs(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]!));
  return s;
}

/** max |a − b| / max(max |b|, floor). */
function relErr(a: Float32Array, b: Float32Array, floor = 0): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / (Math.max(maxAbs(b), floor) || 1);
}

async function expectGradsMatch(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, tol: number): Promise<void> {
  const w = await gradsOn("wasm", model, x, y);
  const c = await gradsOn("cpu", model, x, y);
  await tf.setBackend("wasm");
  expect([...w.keys()].sort()).toEqual([...c.keys()].sort());
  expect(w.size).toBe(model.trainableWeights.length);
  // Some gradients are zero in exact arithmetic (a BatchNorm beta feeding a linear conv and another
  // BatchNorm): there the error is measured against 1e-3 × the largest gradient in the model.
  const floor = 1e-3 * Math.max(...[...c.values()].map(maxAbs));
  for (const [k, g] of w) expect(relErr(g, c.get(k)!, floor), k).toBeLessThan(tol);
}

async function expectNoLeakOverSteps(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<void> {
  const opt = tf.train.adam(1e-3);
  const step = () => tf.dispose(opt.minimize(lossOf(model, x, y), true) ?? []);
  step(); // creates the optimizer's slots
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) step();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  opt.dispose();
}

beforeAll(async () => {
  expect((await initBackend({ backend: "wasm", log: () => {} })).backend).toBe("wasm");
});

describe("training steps on wasm", () => {
  it("reference CNN: gradients match cpu to 1e-4; no leaks across steps", async () => {
    const model = refCnn({ inputShape: [16, 16, 3], filters: [4, 6, 8], classes: 5, seed: 1 });
    const { x, y } = batch(4, 16, 5, 2);
    await expectGradsMatch(model, x, y, 1e-4);
    await expectNoLeakOverSteps(model, x, y);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("MobileNetV2 (alpha 0.35, 48×48, batch 3): gradients match cpu; no leaks across steps", async () => {
    const model = mobileNetV2({ alpha: 0.35, inputSize: 48, classes: 5, seed: 3 });
    const { x, y } = batch(3, 48, 5, 4);
    // 52 layers with BatchNorm in training mode (statistics over 3 samples × 2×2 at the end)
    // amplify float32 rounding: 1e-3 relative per weight tensor.
    await expectGradsMatch(model, x, y, 1e-3);
    await expectNoLeakOverSteps(model, x, y);
    tf.dispose([x, y]);
    model.dispose();
  });
});
