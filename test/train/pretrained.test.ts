/**
 * model.image.pretrained: the MobileNetV2 trunk of the matching model starts from nsfwjs's bundled
 * ImageNet weights. The trunk built by src/models (fused BatchNorm and ReLU6 layers, "same" padding)
 * with those weights is checked against nsfwjs's own Keras model (ZeroPadding2D + "valid"), loaded by
 * tfjs from its topology, on the same images; then a run config fine-tunes it.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { mobilenetBackbone, mobilenetWeights } from "../../src/embeddings/mobilenet";
import { BatchNormLayer } from "../../src/models/fused_layers";
import { mobileNetV2 } from "../../src/models/mobilenet_v2";
import { ConfigError } from "../../src/config";
import { buildRunModel, loadPretrainedTrunk } from "../../src/train/model";
import { taskDef } from "../../src/train/tasks/index";
import { Rng } from "../../src/rng";
import { tinyConfig, tinyData, tinyListings } from "./fixture";

/** Images in [0, 1]: smooth colour fields with noise, as photos are (not white noise). */
function images(n: number, size: number, seed: number): tf.Tensor4D {
  const r = new Rng(seed);
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const base = [r.next(), r.next(), r.next()];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++) data[((i * size + y) * size + x) * 3 + c] = Math.min(1, Math.max(0, base[c]! * (0.5 + (0.5 * (x + y)) / size) + 0.05 * r.normal()));
  }
  return tf.tensor4d(data, [n, size, size, 3]);
}

const pretrainedConfig = (over: Record<string, unknown> = {}) =>
  tinyConfig({
    data: { image_size: 32, folds: 4, fold: 0, augment: [{ horizontalFlip: { p: 0.5 } }] },
    model: { image: { encoder: "mobilenet_v2", alpha: 1, pretrained: true }, text: { dim: 64 }, embedding_dim: 16 },
    optim: { batch_size: 8, epochs: 1, lr: 0.01, param_groups: [{ match: "^(Conv1|bn_Conv1|expanded_conv|block_|Conv_1)", lr: 0.001 }] },
    ...over,
  });

describe("pretrained MobileNetV2 trunk (model.image.pretrained)", () => {
  beforeAll(async () => {
    await initBackend({ backend: "wasm", log: () => {} });
  });
  afterAll(async () => {
    await tf.setBackend("wasm");
  });

  for (const size of [32, 64]) {
    it(`src/models' MobileNetV2 with the bundled weights computes nsfwjs's Keras model's out_relu at ${size} px (to 1e-4 relative), no leaks`, async () => {
      const keras = await mobilenetBackbone({ size, pooling: "none" });
      const ours = mobileNetV2({ alpha: 1, inputSize: size, includeTop: false, pooling: "none" });
      const holder = tf.model({ inputs: ours.inputs, outputs: ours.outputs });
      // loadPretrainedTrunk finds the trunk as a nested model, as in the matching model
      const input = tf.input({ shape: [size, size, 3] });
      const wrapped = tf.model({ inputs: input, outputs: ours.apply(input) as tf.SymbolicTensor });
      const before = tf.memory().numTensors;
      loadPretrainedTrunk(wrapped);
      expect(tf.memory().numTensors).toBe(before);
      const x = images(3, size, 7);
      const [a, b] = [keras.predict(x) as tf.Tensor, wrapped.predict(x) as tf.Tensor];
      expect(b.shape).toEqual(a.shape);
      const [av, bv] = [a.dataSync(), b.dataSync()];
      let num = 0;
      let den = 0;
      for (let i = 0; i < av.length; i++) {
        num += (av[i]! - bv[i]!) ** 2;
        den += av[i]! ** 2;
      }
      expect(den).toBeGreaterThan(0);
      expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
      tf.dispose([x, a, b]);
      keras.dispose();
      holder.dispose();
    });
  }

  it("every trunk weight is the pretrained one after buildRunModel, BatchNorm on the pretrained statistics", () => {
    const cfg = pretrainedConfig();
    const split = taskDef(cfg.task).split(tinyListings(), cfg);
    const rm = buildRunModel(cfg, tinyData(cfg), split);
    const weights = mobilenetWeights();
    const loaded = rm.stateVariables().filter((p) => weights[p.name] !== undefined);
    expect(loaded.length).toBe(Object.keys(weights).length);
    for (const p of loaded) expect(p.variable.dataSync()).toEqual(weights[p.name]!.dataSync());
    tf.dispose(Object.values(weights));
    // its BatchNorm layers keep the pretrained statistics in training (frozenStats)
    const trunk = rm.net.model.layers.find((l) => l.name.startsWith("mobilenetv2_")) as tf.LayersModel;
    const bns = trunk.layers.filter((l) => l instanceof BatchNormLayer) as BatchNormLayer[];
    expect(bns.length).toBe(52);
    expect(bns.every((l) => l.frozenStats)).toBe(true);
    rm.dispose();
  });

  it("config: pretrained needs mobilenet_v2, alpha 1 and image_size a multiple of 32 (named errors)", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ model: { image: { encoder: "resnet", pretrained: true } } }, "model.image.pretrained needs model.image.encoder: mobilenet_v2"],
      [{ model: { image: { encoder: "mobilenet_v2", alpha: 0.35, pretrained: true } } }, "model.image.pretrained needs model.image.alpha: 1"],
      [{ data: { image_size: 48 }, model: { image: { encoder: "mobilenet_v2", alpha: 1, pretrained: true } } }, "data.image_size a multiple of 32"],
    ];
    for (const [over, msg] of cases) {
      let err: unknown;
      try {
        tinyConfig(over);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(msg);
    }
  });
});
