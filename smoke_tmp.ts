import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./src/backend/index";
import { buildMatchModel } from "./src/models/index";
const be = process.argv[2]!;
await initBackend({ backend: be });
for (const widths of [[16,32,64],[8,16,32]]) {
const { model } = buildMatchModel({ image: { size: 32, widths }, text: { dim: 1024 }, embeddingDim: 128, seed: 1 });
const x = tf.randomUniform([32, 32, 32, 3], 0, 1, "float32", 1);
const t = tf.randomUniform([32, 1024], 0, 1, "float32", 2);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
for (let i = 0; i < 4; i++) {
  const t0 = Date.now();
  const { value, grads } = tf.variableGrads(() => {
    const outs = model.apply([x, t], { training: true }) as tf.Tensor[];
    return tf.addN(outs.map((o) => o.square().mean())) as tf.Scalar;
  }, vars);
  value.dataSync(); tf.dispose(grads); value.dispose();
  const t1 = Date.now();
  tf.tidy(() => { (model.apply([x, t], { training: false }) as tf.Tensor[])[0]!.dataSync(); });
  if (i > 0) console.log(be, widths.join("/"), "train step", t1 - t0, "ms; infer", Date.now() - t1, "ms");
}
}
