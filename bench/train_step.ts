/**
 * `npm run bench -- train-step`: milliseconds per Adam training step, per net and per backend, with
 * PyTorch (Debian's python3-torch, `bench/train_step_torch.py`) timed in the same run.
 *
 * Cases: ref-cnn (src/models/ref_cnn.ts, batch 32, 64×64×3), mobilenetv2 (alpha 1.0, 96×96, batch
 * 16) and vqa-mlp (1280→512→3129, batch 64). Impls: wasm (1 thread), wasm-mt (threaded SIMD build,
 * `--threads` threads), cpu (pure JS; only `--cpu-cases`, default vqa-mlp, within `--cpu-budget-s`). Each impl
 * runs in its own child process (a tfjs backend initialises once per process). The whole sequence
 * (PyTorch, then each impl) repeats `--rounds` times, interleaved, so that a slow spell of a shared
 * machine hits every impl alike. One JSON line per measurement: wall ms and process CPU ms (the
 * median over `--steps` steps after `--warmup` steps, then the median over rounds), `ratio` = the
 * median over rounds of ms / PyTorch's ms of the same round at the same thread count, `cpu_ratio`
 * the same for CPU time, and `ms_rounds` each round's ms; `ms_min` the fastest round, `ratio_min`
 * = ms_min / PyTorch's best round, `busy` when a case's rounds spread more than 1.5× (max/min).
 * The peer runs with its thread count pinned (torch.set_num_threads and OMP/OPENBLAS/MKL_NUM_THREADS
 * in its own process) and, by default (`--peer-blas both`), twice a round: with OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE as this machine sets them (impl `pytorch`) and with them unset in its process
 * only (`pytorch-blas-unset`); every ratio is against the faster of the two.
 */
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { intFlag, parseFlags } from "../src/cli/common";
import { median, parseList, pinnedThreadsEnv, runChild, summariseRounds, roundRatios } from "./lib/common";
import { initBackend } from "../src/backend/index";
import { simdKernels } from "../src/backend/simd_kernels";
import { mobileNetV2, refCnn } from "../src/models/index";
import { AdamW } from "../src/train/optimizer";

type CaseName = "ref-cnn" | "mobilenetv2" | "vqa-mlp";
type Impl = "wasm" | "wasm-mt" | "cpu";
const CASES: readonly CaseName[] = Object.freeze(["ref-cnn", "mobilenetv2", "vqa-mlp"]);
const IMPLS: readonly Impl[] = Object.freeze(["wasm", "wasm-mt", "cpu"]);

interface Row {
  bench: "train-step";
  case: string;
  impl: string;
  ms?: number;
  cpu_ms?: number;
  steps?: number;
  batch?: number;
  threads?: number;
  ratio?: number;
  capped?: boolean;
  skipped?: string;
  [k: string]: unknown;
}

const FLAGS = {
  cases: { type: "string", default: CASES.join(","), help: `comma-separated cases (${CASES.join("|")})` },
  impls: { type: "string", default: IMPLS.join(","), help: `comma-separated impls (${IMPLS.join("|")})` },
  steps: { type: "string", default: "5", help: "timed steps per case (the median is reported)" },
  warmup: { type: "string", default: "2", help: "untimed steps first" },
  threads: { type: "string", default: String(Math.min(os.availableParallelism(), 8)), help: "threads for wasm-mt and the multi-thread PyTorch run" },
  "cpu-budget-s": { type: "string", default: "60", help: "time budget per case on the pure-JS cpu backend (checked between steps)" },
  "cpu-cases": { type: "string", default: "vqa-mlp", help: `cases the pure-JS cpu backend runs (${CASES.join("|")}); one ref-cnn step takes minutes` },
  rounds: { type: "string", default: "5", help: "interleaved repetitions of the whole sequence (min and median over rounds are reported)" },
  "peer-blas": { type: "string", default: "both", help: "the peer's OpenBLAS settings (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE): both (as set and unset, each round; ratios against the faster), set, unset" },
  "no-torch": { type: "boolean", default: false, help: "skip the PyTorch peer" },
  worker: { type: "string", help: "(internal) run one impl in this process" },
} as const;

/**
 * Builds a case: model, batch, and a step function running one Adam update (matchlab's optimiser, as
 * training runs use it: one fused pass per parameter on wasm) and reading the loss.
 */
function buildCase(name: CaseName): { step: () => number; batch: number; dispose: () => void } {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  let classes: number;
  let batch: number;
  let logits = false;
  switch (name) {
    case "ref-cnn":
      model = refCnn({ classes: 10 });
      batch = 32;
      classes = 10;
      x = tf.randomNormal([batch, 64, 64, 3], 0, 1, "float32", 1);
      break;
    case "mobilenetv2":
      model = mobileNetV2({ alpha: 1.0, inputSize: 96, classes: 10 });
      batch = 16;
      classes = 10;
      x = tf.randomNormal([batch, 96, 96, 3], 0, 1, "float32", 1);
      break;
    case "vqa-mlp": {
      const input = tf.input({ shape: [1280] });
      const h = tf.layers.dense({ units: 512, activation: "relu" }).apply(input) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 3129 }).apply(h) as tf.SymbolicTensor;
      model = tf.model({ inputs: input, outputs: out });
      batch = 64;
      classes = 3129;
      logits = true;
      x = tf.randomNormal([batch, 1280], 0, 1, "float32", 1);
      break;
    }
    default:
      throw new Error(`unknown case: ${name as string} (expected ${CASES.join("|")})`);
  }
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % classes), "int32"), classes);
  const loss = () => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    return (logits ? tf.losses.softmaxCrossEntropy(y, p) : tf.mean(tf.metrics.categoricalCrossentropy(y, p))) as tf.Scalar;
  };
  const params = model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable }));
  const opt = new AdamW(params, { kind: "adam", lr: 1e-3, weightDecay: 0 });
  const step = () => {
    const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable));
    opt.step(params.map((p) => grads[p.variable.name]!));
    const v = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return v;
  };
  return {
    step,
    batch,
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
      opt.dispose();
    },
  };
}

async function runWorker(impl: Impl, cases: CaseName[], steps: number, warmup: number, threads: number, cpuBudgetS: number, cpuCases: CaseName[]): Promise<void> {
  const info = await initBackend({ backend: impl === "cpu" ? "cpu" : "wasm", threads: impl === "wasm-mt" ? threads : 1, log: (l) => console.error(l) });
  for (const name of cases) {
    const simd = impl === "cpu" ? undefined : simdKernels(tf.backend() as never);
    const row: Row = { bench: "train-step", case: name, impl, threads: info.threads, ...(impl === "cpu" ? {} : { kernels: simd ? (simd.relaxed ? "relaxed-simd" : "simd") : "xnnpack" }) };
    if (impl === "cpu" && !cpuCases.includes(name)) {
      console.log(JSON.stringify({ ...row, skipped: "pure-JS cpu backend: minutes per step (add it to --cpu-cases to time it)" }));
      continue;
    }
    const c = buildCase(name);
    const wall: number[] = [];
    const cpu: number[] = [];
    const timed = () => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      c.step();
      const cu = process.cpuUsage(c0);
      wall.push(performance.now() - t0);
      cpu.push((cu.user + cu.system) / 1000);
    };
    const budgetMs = impl === "cpu" ? cpuBudgetS * 1000 : Number.POSITIVE_INFINITY;
    const start = performance.now();
    let capped = false;
    for (let i = 0; i < warmup; i++) {
      timed();
      if (performance.now() - start > budgetMs) {
        capped = true;
        break;
      }
    }
    if (!capped) {
      wall.length = 0;
      cpu.length = 0;
      for (let i = 0; i < steps; i++) {
        timed();
        if (performance.now() - start > budgetMs && i + 1 < steps) {
          capped = true;
          break;
        }
      }
    }
    const out: Row = { ...row, ms: +median(wall).toFixed(2), cpu_ms: +median(cpu).toFixed(2), steps: wall.length, batch: c.batch };
    if (capped) out.capped = true;
    console.log(JSON.stringify(out));
    c.dispose();
  }
}

/** The OpenBLAS variables these machines set (older OpenBLAS builds need them); they change which kernels the peer runs. */
const BLAS_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const;
type BlasVariant = "set" | "unset";

function blasLabel(v: BlasVariant): string {
  if (v === "unset") return `${BLAS_VARS.join(", ")} unset`;
  const set = BLAS_VARS.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return set.length ? `as set: ${set.join(", ")}` : "as set: none set";
}

/** The peer's environment: thread counts pinned, the OpenBLAS variables kept or removed (this child only). */
function peerEnv(threads: number, v: BlasVariant): NodeJS.ProcessEnv {
  const env = pinnedThreadsEnv(threads);
  if (v === "unset") for (const k of BLAS_VARS) delete env[k];
  return env;
}

async function main(): Promise<void> {
  const p = parseFlags("bench train-step", "ms per training step per net and backend, with PyTorch in the same run", FLAGS, process.argv.slice(2));
  if (!p) return;
  const cases = parseList(String(p.values.cases), CASES, "case");
  const steps = intFlag(p, "steps", 5);
  const warmup = intFlag(p, "warmup", 2);
  const threads = intFlag(p, "threads", 2);
  const cpuBudgetS = intFlag(p, "cpu-budget-s", 60);
  const cpuCases = parseList(String(p.values["cpu-cases"]), CASES, "case");
  if (steps < 1 || warmup < 0 || threads < 1 || threads > 8) throw new Error("--steps ≥ 1, --warmup ≥ 0, --threads in 1..8");
  if (typeof p.values.worker === "string") {
    await runWorker(parseList(p.values.worker, IMPLS, "impl")[0]!, cases, steps, warmup, threads, cpuBudgetS, cpuCases);
    return;
  }
  const impls = parseList(String(p.values.impls), IMPLS, "impl");
  const rounds = intFlag(p, "rounds", 5);
  const blas = String(p.values["peer-blas"]);
  if (!["both", "set", "unset"].includes(blas)) throw new Error(`--peer-blas: expected both|set|unset, got ${blas}`);
  const peerVariants: BlasVariant[] = blas === "both" ? ["set", "unset"] : [blas as BlasVariant];
  if (!p.values["no-torch"]) {
    console.error(`bench train-step: peer threads pinned (torch.set_num_threads, OMP/OPENBLAS/MKL_NUM_THREADS in its process only); OpenBLAS variants: ${peerVariants.map(blasLabel).join("; ")}; ratios against the faster`);
  }
  if (rounds < 1) throw new Error("--rounds ≥ 1");
  const common = ["--cases", cases.join(","), "--steps", String(steps), "--warmup", String(warmup)];
  const perRound: Row[][] = [];
  for (let round = 0; round < rounds; round++) {
    const rows: Row[] = [];
    // PyTorch first, at 1 thread and at `threads`, so that every tfjs line gets a ratio.
    if (!p.values["no-torch"]) {
      const script = path.join("bench", "train_step_torch.py");
      for (const t of [...new Set([1, threads])]) {
        for (const v of peerVariants) {
          const env = peerEnv(t, v);
          const got = runChild<Row>("train-step", "/usr/bin/python3", [script, ...common, "--threads", String(t)], 900, "pytorch", env);
          rows.push(...got.map((r) => ({ ...r, impl: v === "set" ? "pytorch" : "pytorch-blas-unset", openblas: blasLabel(v) })));
        }
      }
    }
    for (const impl of impls) {
      if (impl === "cpu" && round > 0) continue; // minutes per step: one round is enough
      const args = ["--import", "tsx", path.join("bench", "train_step.ts"), ...common, "--threads", String(threads), "--cpu-budget-s", String(cpuBudgetS), "--cpu-cases", cpuCases.join(","), "--worker", impl];
      rows.push(...runChild<Row>("train-step", process.execPath, args, 1800, impl));
    }
    // against the peer's best this round: the faster of its OpenBLAS variants, per case and thread count
    roundRatios(rows, [["ms", "ratio"], ["cpu_ms", "cpu_ratio"]]);
    perRound.push(rows);
    console.error(`bench train-step: round ${round + 1}/${rounds} done`);
  }
  // one line per measurement, in first-round order: medians over the rounds that measured it
  for (const out of summariseRounds(perRound, ["ms", "cpu_ms", "ratio", "cpu_ratio"])) console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`bench train-step: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
