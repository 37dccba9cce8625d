/**
 * `npm run bench -- gemm [--threads 1] [--reps 5] [--rounds 6]`: the VQA head's five matrix products
 * (1280→512→3129, batch 64: both forward products, the input gradient dY·W₂ᵀ and both weight
 * gradients) alone on the wasm backend, ms and GFLOP/s each. Wall and process CPU time per product are
 * the best round's (the mean over `--reps` products in that round): on a shared machine the best round
 * is the one least disturbed. One JSON line per product.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/index";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    reps: { type: "string", default: "5" },
    rounds: { type: "string", default: "6" },
  },
});
const threads = Number(values.threads);
const reps = Number(values.reps);
const rounds = Number(values.rounds);
if (!(threads >= 1 && reps >= 1 && rounds >= 1)) throw new Error("bench gemm: --threads, --reps and --rounds must be ≥ 1");

/** [name, A's shape, B's shape, transposeA, transposeB, bias] */
const CASES: readonly [string, number[], number[], boolean, boolean, boolean][] = Object.freeze([
  ["forward-1", [64, 1280], [1280, 512], false, false, false],
  ["forward-2+bias", [64, 512], [512, 3129], false, false, true],
  ["input-grad A·Bᵀ", [64, 3129], [512, 3129], false, true, false],
  ["weight-grad-2 Aᵀ·B", [64, 512], [64, 3129], true, false, false],
  ["weight-grad-1 Aᵀ·B", [64, 1280], [64, 512], true, false, false],
]);

const info = await initBackend({ backend: "wasm", threads, log: () => {} });
for (const [name, as, bs, ta, tb, withBias] of CASES) {
  const a = tf.randomNormal(as);
  const b = tf.randomNormal(bs);
  const [m, k] = ta ? [as[1]!, as[0]!] : [as[0]!, as[1]!];
  const n = tb ? bs[0]! : bs[1]!;
  const bias = withBias ? tf.randomNormal([n], 0, 1, "float32", 3) : undefined;
  const product = () => (bias ? tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: ta, transposeB: tb, bias }) : tf.matMul(a, b, ta, tb));
  product().dispose(); // warm-up
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) {
      const c = product();
      c.dataSync();
      c.dispose();
    }
    const cu = process.cpuUsage(c0);
    wall = Math.min(wall, (performance.now() - t0) / reps);
    cpu = Math.min(cpu, (cu.user + cu.system) / 1000 / reps);
  }
  const gflops = (ms: number) => +((2 * m * n * k) / ms / 1e6).toFixed(1);
  console.log(JSON.stringify({ bench: "gemm", case: name, m, k, n, threads: info.threads, ms: +wall.toFixed(2), cpu_ms: +cpu.toFixed(2), gflops: gflops(wall), cpu_gflops: gflops(cpu) }));
  tf.dispose([a, b, ...(bias ? [bias] : [])]);
}
