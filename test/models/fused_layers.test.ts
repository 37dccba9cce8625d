import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { BatchNormLayer, ConvBiasActLayer, Relu6Layer } from "../../src/models/fused_layers";

beforeAll(async () => {
  expect((await initBackend({ backend: "wasm", log: () => {} })).backend).toBe("wasm");
});

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

describe("BatchNormLayer", () => {
  /** One training call of `layer` on x: output, d(loss)/dx, d(loss)/d(gamma, beta), moving stats after. */
  function trainOnce(layer: tf.layers.Layer, x: tf.Tensor) {
    const weights = tf.tidy(() => tf.sin(tf.range(0, x.size).reshape(x.shape)));
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, weights)) as tf.Scalar;
    const y = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
    const dx = tf.grad(loss)(x);
    const { value, grads } = tf.variableGrads(() => loss(x), layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const out = { y: y.arraySync(), dx: dx.arraySync(), grads: Object.values(grads).map((g) => g.arraySync()), stats: layer.getWeights().map((w) => w.arraySync()) };
    tf.dispose([weights, y, dx, value, ...Object.values(grads)]);
    return out;
  }
  const close = (a: unknown, b: unknown, tol: number) => {
    const fa = [a].flat(4) as number[];
    const fb = [b].flat(4) as number[];
    expect(fa.length).toBe(fb.length);
    const scale = Math.max(1e-6, ...fb.map(Math.abs));
    expect(Math.max(...fa.map((v, i) => Math.abs(v - fb[i]!))) / scale).toBeLessThan(tol);
  };

  for (const backend of ["wasm", "cpu"]) {
    for (const shape of [
      [4, 5, 6, 8],
      [6, 12],
      [3, 4, 4, 6],
    ]) {
      it(`${backend} ${shape}: training output, gradients and moving averages match tfjs' BatchNormalization; inference too; no leaks`, async () => {
        await tf.setBackend(backend);
        const c = shape[shape.length - 1]!;
        const opts = { momentum: 0.9, epsilon: 1e-3 };
        const ours = new BatchNormLayer(opts);
        const ref = tf.layers.batchNormalization(opts);
        const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, "float32", 3), 2), 0.5);
        ours.apply(x);
        ref.apply(x);
        const w = [tf.randomUniform([c], 0.5, 1.5, "float32", 1), tf.randomNormal([c], 0, 1, "float32", 2), tf.zeros([c]), tf.ones([c])];
        ours.setWeights(w);
        ref.setWeights(w);
        const before = tf.memory().numTensors;
        const a = trainOnce(ours, x);
        const b = trainOnce(ref, x);
        expect(tf.memory().numTensors).toBe(before);
        close(a.y, b.y, 1e-5);
        close(a.dx, b.dx, 1e-4);
        for (const [i, g] of a.grads.entries()) close(g, b.grads[i], 1e-4);
        for (const [i, s] of a.stats.entries()) close(s, b.stats[i], 1e-5);
        const [yi, ri] = [ours.apply(x) as tf.Tensor, ref.apply(x) as tf.Tensor];
        close(yi.arraySync(), ri.arraySync(), 1e-5);
        tf.dispose([x, yi, ri, ...w]);
        await tf.setBackend("wasm");
      });
    }
  }

  it("frozenStats: training normalises with the moving statistics and leaves them; gamma and beta still get gradients; no leaks", () => {
    const c = 6;
    const ours = new BatchNormLayer({ momentum: 0.5, frozenStats: true });
    const x = tf.add(tf.mul(tf.randomNormal([4, 3, 3, c], 0, 1, "float32", 5), 3), 1);
    ours.apply(x);
    const w = [tf.randomUniform([c], 0.5, 1.5, "float32", 6), tf.randomNormal([c], 0, 1, "float32", 7), tf.randomNormal([c], 0, 1, "float32", 8), tf.randomUniform([c], 0.5, 2, "float32", 9)];
    ours.setWeights(w);
    const before = tf.memory().numTensors;
    const a = trainOnce(ours, x);
    expect(tf.memory().numTensors).toBe(before);
    // y = gamma·(x − moving mean)/√(moving var + eps) + beta, computed by hand
    const [g, b, mm, mv] = w.map((t) => t.dataSync());
    const xv = x.dataSync();
    const want = Array.from(xv, (v, i) => {
      const k = i % c;
      return g![k]! * ((v - mm![k]!) / Math.sqrt(mv![k]! + 1e-3)) + b![k]!;
    });
    close(a.y, want, 1e-5);
    for (const [i, s] of a.stats.entries()) expect(s).toEqual(w[i]!.arraySync()); // moving stats (and gamma, beta: no step taken) unchanged
    expect(a.grads).toHaveLength(2);
    for (const gr of a.grads) expect(([gr].flat(4) as number[]).some((v) => v !== 0)).toBe(true);
    expect(ours.getConfig()).toMatchObject({ frozenStats: true });
    tf.dispose([x, ...w]);
  });

  it("round-trips through a model's JSON with its config; a non-last axis takes tfjs' own path", async () => {
    const input = tf.input({ shape: [4, 4, 8] });
    const out = new BatchNormLayer({ momentum: 0.95, epsilon: 1e-4, name: "bn" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const copy = await tf.models.modelFromJSON(JSON.parse(JSON.stringify(model.toJSON(null, false))));
    const layer = copy.getLayer("bn");
    expect(layer).toBeInstanceOf(BatchNormLayer);
    expect(layer.getConfig()).toMatchObject({ momentum: 0.95, epsilon: 1e-4 });
    const axis1 = new BatchNormLayer({ axis: 1 });
    const x = tf.randomNormal([2, 3, 5]);
    expect((axis1.apply(x, { training: true }) as tf.Tensor).shape).toEqual([2, 3, 5]);
    copy.dispose();
    model.dispose();
  });
});
