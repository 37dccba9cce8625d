import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, clipByGlobalNorm, GradientAccumulator, lrSchedule, scaleLrForBatch } from "../../src/train/index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("AdamW vs a naive loop", () => {
  for (const kind of ["adam", "adamw"] as const) {
    it(`${kind} with parameter groups`, () => {
      const w0 = [[0.5, -1], [2, 0.1]];
      const b0 = [0.3, -0.2];
      const w = tf.variable(tf.tensor2d(w0));
      const b = tf.variable(tf.tensor1d(b0));
      const opt = new AdamW([{ name: "img_w", variable: w }, { name: "head_b", variable: b }], { kind, lr: 0.1, weightDecay: 0.05, groups: [{ match: "^img_", lr: 0.01 }] });
      const gradsW = [[[1, 2], [3, 4]], [[-1, 0.5], [0.2, 0.1]], [[0, 0], [1, -1]]];
      const gradsB = [[1, -1], [0.5, 0.5], [-2, 1]];
      // naive reference (float64)
      const ref = { w: w0.flat(), b: b0.slice() };
      const mom = { mw: [0, 0, 0, 0], vw: [0, 0, 0, 0], mb: [0, 0], vb: [0, 0] };
      const lrFactors = [1, 0.5, 0.25];
      for (let t = 1; t <= 3; t++) {
        const upd = (p: number[], g: number[], m: number[], v: number[], lr: number, wd: number) => {
          for (let i = 0; i < p.length; i++) {
            let gi = g[i]!;
            if (kind === "adam") gi += wd * p[i]!;
            m[i] = 0.9 * m[i]! + 0.1 * gi;
            v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
            const mh = m[i]! / (1 - 0.9 ** t);
            const vh = v[i]! / (1 - 0.999 ** t);
            let u = mh / (Math.sqrt(vh) + 1e-8);
            if (kind === "adamw") u += wd * p[i]!;
            p[i] = p[i]! - lr * u;
          }
        };
        const f = lrFactors[t - 1]!;
        upd(ref.w, gradsW[t - 1]!.flat(), mom.mw, mom.vw, 0.01 * f, 0.05);
        upd(ref.b, gradsB[t - 1]!, mom.mb, mom.vb, 0.1 * f, 0); // 1-D: no decay
        const before = tf.memory().numTensors;
        const gs = [tf.tensor2d(gradsW[t - 1]!), tf.tensor1d(gradsB[t - 1]!)];
        opt.step(gs, f);
        tf.dispose(gs);
        expect(tf.memory().numTensors).toBe(before);
      }
      Array.from(w.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(ref.w[i]!, 5);
      });
      Array.from(b.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(ref.b[i]!, 5);
      });
    });
  }

  it("allocates only its moment variables and frees them all on dispose", () => {
    const w = tf.variable(tf.zeros([3, 2]));
    const b = tf.variable(tf.zeros([2]));
    const before = tf.memory().numTensors;
    const opt = new AdamW([{ name: "w", variable: w }, { name: "b", variable: b }]);
    expect(tf.memory().numTensors).toBe(before + 4); // m and v per parameter, nothing else
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b]);
  });

  it("saves and restores its state exactly", () => {
    const mk = () => tf.variable(tf.tensor1d([1, 2, 3]));
    const a = mk();
    const oa = new AdamW([{ name: "x", variable: a }], { lr: 0.1 });
    oa.step([tf.tensor1d([0.1, -0.2, 0.3])]);
    const st = oa.getState();
    const b = tf.variable(a.clone());
    const ob = new AdamW([{ name: "x", variable: b }], { lr: 0.1 });
    ob.setState(st);
    const g = tf.tensor1d([0.5, 0.5, -1]);
    oa.step([g]);
    ob.step([g]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => ob.setState({ t: 1, m: {}, v: {} })).toThrow(/no m for parameter x/);
  });

  it("rejects bad group regexes and unknown kinds", () => {
    const v = tf.variable(tf.zeros([2]));
    expect(() => new AdamW([{ name: "a", variable: v }], { groups: [{ match: "(", lr: 1 }] })).toThrow(/not a valid regular expression/);
    expect(() => new AdamW([{ name: "a", variable: v }], { kind: "sgd" as never })).toThrow(/expected adam\|adamw/);
  });
});

describe("clipping and accumulation", () => {
  it("clips by global norm like torch's clip_grad_norm_", () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5, 6);
    expect(Array.from(grads[0]!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(grads[1]!.dataSync())[1]).toBeCloseTo(0.8, 5);
    const same = clipByGlobalNorm(g, 10);
    expect(Array.from(same.grads[1]!.dataSync())).toEqual([0, 4]);
  });

  it("accumulating two half-batch gradients equals the full-batch gradient (mean loss)", () => {
    const w = tf.variable(tf.tensor1d([0.5, -0.3]));
    const x = tf.tensor2d([[1, 2], [3, 1], [0, 1], [2, 2]]);
    const y = tf.tensor1d([1, 0, 2, 1]);
    const grad = (rows: number[]) =>
      tf.variableGrads(() => tf.matMul(tf.gather(x, rows), w.reshape([2, 1])).reshape([-1]).sub(tf.gather(y, rows)).square().mean() as tf.Scalar, [w]).grads[w.name]!;
    const acc = new GradientAccumulator();
    acc.add([grad([0, 1])]);
    acc.add([grad([2, 3])]);
    const [mean] = acc.take();
    const full = grad([0, 1, 2, 3]);
    Array.from(mean!.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(full.dataSync()[i]!, 5);
      });
  });
});

describe("schedules", () => {
  it("warmup then cosine / linear / step", () => {
    const c = lrSchedule({ kind: "cosine", warmupSteps: 4, totalSteps: 14 });
    expect([0, 1, 2, 3].map(c)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(c(4)).toBeCloseTo(1);
    expect(c(9)).toBeCloseTo(0.5);
    expect(c(14)).toBeCloseTo(0);
    const l = lrSchedule({ kind: "linear", totalSteps: 10, minFactor: 0.1 });
    expect(l(5)).toBeCloseTo(0.55);
    const s = lrSchedule({ kind: "step", stepSize: 3, gamma: 0.5 });
    expect([0, 2, 3, 6].map(s)).toEqual([1, 1, 0.5, 0.25]);
    expect(() => lrSchedule({ kind: "exp" as never })).toThrow(/expected constant\|cosine\|linear\|step/);
    expect(() => lrSchedule({ kind: "cosine" })).toThrow(/needs totalSteps/);
  });

  it("rescales the LR with the batch size", () => {
    expect(scaleLrForBatch(1e-3, 64, { baseBatch: 256 })).toBeCloseTo(2.5e-4);
    expect(scaleLrForBatch(1e-3, 64, { baseBatch: 256, rule: "sqrt" })).toBeCloseTo(5e-4);
  });
});
