/**
 * `npm run bench -- train-run`: whole training runs of real recipes, in samples/s, with a PyTorch twin
 * (Debian's python3-torch and python3-pil, `bench/train_run_torch.py`) timed in the same run.
 *
 * Cases: the recipes configs/quick.yaml and configs/fast.yaml, both on `--dataset` (default the
 * sample, data/emoji-match-sample: fast.yaml's own data/emoji-match is the full set), so that
 * fast.yaml's model, heads (image, text, fused) and augmentation (random resized crop from the
 * 30 px decode, flip, colour jitter, one augmentation worker) run on the same rows as quick.yaml's.
 * matchlab's side is the run driver `matchlab train` uses (trainRun: dataset load with image header
 * checks, image decode through the cache, text features, the split, the model, the untrained
 * validation, the Learner with the standard callbacks, checkpoints, metrics.csv, validation,
 * out-of-fold embeddings), on wasm, one child process per case and impl (a tfjs backend initialises
 * once per process): impl `wasm` at 1 thread, `wasm-mt` at `--threads`. Each child gets its own
 * temporary MATCHLAB_RUNS_DIR and MATCHLAB_CACHE_DIR (so every run decodes its images cold), all
 * removed at the end. A run trains one epoch, or `--warmup` + `--steps` steps (then `train.max_iters`;
 * the LR schedule spans those steps on both sides).
 *
 * Measured, per run: `setup_ms` (summary.json's timing.setup_s: dataset load, decode, text
 * features, split, model and learner), `untrained_ms`, the training batches after the first
 * `--warmup` (throughputCallback: a batch runs from the end of the previous one to the end of its
 * own callbacks: loading and augmenting it, forward, backward, clipping, AdamW, checkpoints due),
 * as `samples_per_s`, `ms` (mean ms per batch = batch × 1000 / samples_per_s), `ms_median` and
 * `cpu_ms` (process CPU per batch, every thread), `valid_ms` (the median validation: embedding the
 * validation rows, kNN, F1 over thresholds, with best.ckpt written after it when it improved),
 * `run_ms` (all of trainRun), `params` (trainable parameters), `val_f1` (the last validation) and
 * `untrained_f1`.
 *
 * The twin (see its doc comment for what it does differently) reads what the TS side exports to a
 * temporary folder per case: the rows' image paths, the split (training rows, their head classes,
 * validation rows and their groups), the resolved config, and the hashed n-gram title features as
 * a .f32 file (so the peer needs no port of the hashing; featurising takes matchlab a few ms of its
 * setup); it decodes the PNGs itself (PIL) up front, as its setup. Its threads are pinned
 * (torch.set_num_threads and OMP/OPENBLAS/MKL_NUM_THREADS in its process); OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE stay as this machine sets them. Both sides' trainable parameter counts are
 * printed and must be equal (the bench fails otherwise: the twin would be wrong).
 *
 * One JSON line per measurement, like the other benches: the median over `--rounds` interleaved
 * rounds (each round: the peer at 1 thread and at `--threads`, then each impl, per case),
 * `ms_rounds` each round's ms, `ms_min` the fastest; `ratio` = the median over rounds of our ms per
 * batch / the peer's at the same thread count in the same round (as train-step's: = the peer's
 * samples/s over ours; above 1 matchlab is slower), `ratio_min` = our best round / the peer's best,
 * `setup_ratio` and `valid_ratio` the same for setup and validation times; `busy` when a line's rounds
 * spread more than 1.5× (max/min). `--smoke`: 3 steps after 1 warm-up step on the first 256 rows,
 * 1 round (the test's mode). A missing torch or PIL gives the peer's line {"skipped": …}.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { intFlag, parseFlags } from "../src/cli/common";
import { isPeer, median, parseList, pinnedThreadsEnv, roundRatios, runChild, summariseRounds } from "./lib/common";
import { initBackend } from "../src/backend/index";
import { simdKernels } from "../src/backend/simd_kernels";
import { listingText } from "../src/data/labels";
import { env } from "../src/env";
import { hashedNgrams } from "../src/models/text";
import { throughputCallback } from "../src/train/callbacks";
import { decodeSize, loadConfig, overrideConfig, type RunConfig } from "../src/train/config";
import { plannedSteps } from "../src/train/learner";
import { readRunSummary } from "../src/train/registry";
import { loadRunDataset, trainRun } from "../src/train/run";
import { taskDef } from "../src/train/tasks/index";

type CaseName = "quick" | "fast";
type Impl = "wasm" | "wasm-mt";
const CASES: readonly CaseName[] = Object.freeze(["quick", "fast"]);
const IMPLS: readonly Impl[] = Object.freeze(["wasm", "wasm-mt"]);
const SMOKE = Object.freeze({ steps: 3, warmup: 1, rounds: 1, limit: 256 });

interface Row {
  bench: "train-run";
  case: string;
  impl: string;
  threads?: number;
  samples_per_s?: number;
  ms?: number;
  setup_ms?: number;
  valid_ms?: number;
  params?: number;
  ratio?: number;
  skipped?: string;
  [k: string]: unknown;
}

const FLAGS = {
  cases: { type: "string", default: CASES.join(","), help: `comma-separated recipes (${CASES.join("|")}: configs/<case>.yaml)` },
  impls: { type: "string", default: IMPLS.join(","), help: `comma-separated impls (${IMPLS.join("|")})` },
  dataset: { type: "string", default: "data/emoji-match-sample", help: "the dataset every recipe trains on (a folder with train.csv and train_images/)" },
  steps: { type: "string", default: "0", help: "timed steps per run after --warmup (0: the rest of one epoch)" },
  warmup: { type: "string", default: "3", help: "untimed steps first" },
  limit: { type: "string", default: "0", help: "use only the first N rows of the dataset (data.limit; 0 = all)" },
  threads: { type: "string", default: "2", help: "threads for wasm-mt and the multi-thread PyTorch run" },
  rounds: { type: "string", default: "2", help: "interleaved repetitions of the whole sequence (min and median over rounds are reported)" },
  smoke: { type: "boolean", default: false, help: `a quick check: --steps ${SMOKE.steps} --warmup ${SMOKE.warmup} --limit ${SMOKE.limit} --rounds ${SMOKE.rounds}` },
  "no-torch": { type: "boolean", default: false, help: "skip the PyTorch peer" },
  worker: { type: "string", help: "(internal) run one impl's runs in this process" },
} as const;

interface RunShape {
  dataset: string;
  steps: number;
  warmup: number;
  limit: number;
}

/** A recipe as the bench runs it: configs/<case>.yaml on `dataset`, one epoch or warmup + steps steps. */
function benchConfig(name: CaseName, s: RunShape): RunConfig {
  let cfg = loadConfig(path.join(env.root, "configs", `${name}.yaml`));
  cfg = overrideConfig(cfg, "data.dataset", path.resolve(s.dataset), "bench");
  if (s.limit > 0) cfg = overrideConfig(cfg, "data.limit", String(s.limit), "bench");
  if (s.steps > 0) {
    cfg = overrideConfig(cfg, "train.max_iters", String(s.warmup + s.steps), "bench");
    cfg = overrideConfig(cfg, "optim.epochs", "1000", "bench"); // max_iters decides
  } else cfg = overrideConfig(cfg, "optim.epochs", "1", "bench");
  return cfg;
}

async function runWorker(impl: Impl, cases: CaseName[], s: RunShape, threads: number): Promise<void> {
  const info = await initBackend({ backend: "wasm", threads: impl === "wasm-mt" ? threads : 1, log: (l) => console.error(l) });
  const simd = simdKernels(tf.backend() as never);
  for (const name of cases) {
    const cfg = benchConfig(name, s);
    const th = throughputCallback();
    const t0 = performance.now();
    const r = await trainRun(cfg, { skipBackend: true, progressBars: false, log: () => {}, callbacks: [th] });
    const runMs = performance.now() - t0;
    const timing = readRunSummary(env.runsDir, r.run)?.timing;
    if (!timing) throw new Error(`run ${r.run}: summary.json has no timing`);
    const sum = th.summary(s.warmup);
    const batch = cfg.optim.batch_size;
    const params = r.model.params.reduce((a, p) => a + p.variable.size, 0);
    const round1 = (x: number) => +x.toFixed(1);
    const row: Row = {
      bench: "train-run",
      case: name,
      impl,
      threads: info.threads,
      kernels: simd ? (simd.relaxed ? "relaxed-simd" : "simd") : "xnnpack",
      batch,
      steps: sum.steps,
      warmup: s.warmup,
      samples: sum.samples,
      samples_per_s: round1(sum.samples_per_s),
      ms: round1(sum.train_ms / Math.max(1, sum.steps)),
      ms_median: round1(sum.step_ms_median),
      cpu_ms: round1(sum.train_cpu_ms / Math.max(1, sum.steps)),
      setup_ms: round1(timing.setup_s * 1000),
      untrained_ms: round1(timing.untrained_s * 1000),
      valid_ms: sum.valid_ms.length ? round1(median(sum.valid_ms)) : undefined,
      run_ms: round1(runMs),
      params,
      val_f1: r.final === null ? null : +r.final.toFixed(4),
      untrained_f1: r.untrained === null ? null : +r.untrained.toFixed(4),
    };
    console.log(JSON.stringify(row));
  }
}

/**
 * What the twin reads, per case, in `dir`: meta.json (rows' image paths, the split, the resolved
 * config, the planned steps) and text.f32 (n × dim hashed n-gram features, float32 little-endian).
 */
async function exportForPeer(name: CaseName, s: RunShape, dir: string): Promise<void> {
  const cfg = benchConfig(name, s);
  if (cfg.model.text.encoder !== "ngram" || cfg.model.image.encoder !== "resnet" || cfg.model.fusion.kind !== "concat") throw new Error(`${name}: the twin builds resnet + ngram + concat models only`);
  const full = await loadRunDataset(cfg);
  const listings = cfg.data.limit > 0 ? full.listings.slice(0, cfg.data.limit) : full.listings;
  const split = taskDef(cfg.task).split(listings, cfg);
  const text = hashedNgrams(
    listings.map((l) => listingText(l, cfg.data.tags)),
    { dim: cfg.model.text.dim },
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "text.f32"), Buffer.from(text.buffer, text.byteOffset, text.byteLength));
  const total = plannedSteps({ rows: split.train.length, batchSize: cfg.optim.batch_size, accumulation: cfg.train.gradient_accumulation_steps, epochs: cfg.optim.epochs, maxSteps: cfg.train.max_iters });
  const meta = {
    case: name,
    n: listings.length,
    images: listings.map((l) => l.imagePath),
    train: Array.from(split.train),
    valid: Array.from(split.valid),
    class_of: Array.from(split.classOf),
    labels: Array.from(split.labels),
    num_classes: split.numClasses,
    decode_size: decodeSize(cfg),
    total_steps: total,
    config: cfg,
  };
  writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta));
}



async function main(): Promise<void> {
  const p = parseFlags("bench train-run", "samples/s of whole training runs of real recipes, with a PyTorch twin in the same run", FLAGS, process.argv.slice(2));
  if (!p) return;
  const smoke = p.values.smoke === true;
  const cases = parseList(String(p.values.cases), CASES, "case");
  const shape: RunShape = {
    dataset: String(p.values.dataset),
    steps: smoke && p.values.steps === "0" ? SMOKE.steps : intFlag(p, "steps", 0),
    warmup: smoke && p.values.warmup === "3" ? SMOKE.warmup : intFlag(p, "warmup", 3),
    limit: smoke && p.values.limit === "0" ? SMOKE.limit : intFlag(p, "limit", 0),
  };
  const threads = intFlag(p, "threads", 2);
  if (shape.steps < 0 || shape.warmup < 0 || shape.limit < 0 || threads < 1 || threads > 8) throw new Error("--steps ≥ 0, --warmup ≥ 0, --limit ≥ 0, --threads in 1..8");
  if (typeof p.values.worker === "string") {
    await runWorker(parseList(p.values.worker, IMPLS, "impl")[0]!, cases, shape, threads);
    return;
  }
  const impls = parseList(String(p.values.impls), IMPLS, "impl");
  const rounds = smoke && p.values.rounds === "2" ? SMOKE.rounds : intFlag(p, "rounds", 2);
  if (rounds < 1) throw new Error("--rounds ≥ 1");
  env.progress = false; // the exports' dataset loads draw no bars
  const tmp = mkdtempSync(path.join(os.tmpdir(), "matchlab-train-run-"));
  try {
    const common = ["--dataset", path.resolve(shape.dataset), "--steps", String(shape.steps), "--warmup", String(shape.warmup), "--limit", String(shape.limit)];
    if (!p.values["no-torch"]) {
      for (const c of cases) await exportForPeer(c, shape, path.join(tmp, `peer-${c}`));
      console.error(`bench train-run: peer threads pinned (torch.set_num_threads, OMP/OPENBLAS/MKL_NUM_THREADS in its process only); OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as set`);
    }
    const perRound: Row[][] = [];
    let child = 0;
    for (let round = 0; round < rounds; round++) {
      const rows: Row[] = [];
      for (const c of cases) {
        // the peer first, at 1 thread and at `threads`, so that every matchlab line gets a ratio
        if (!p.values["no-torch"]) {
          for (const t of [...new Set([1, threads])]) {
            const out = path.join(tmp, `peer-out-${child++}`);
            const args = [path.join("bench", "train_run_torch.py"), "--data", path.join(tmp, `peer-${c}`), "--out", out, "--threads", String(t), "--steps", String(shape.steps), "--warmup", String(shape.warmup)];
            rows.push(...runChild<Row>("train-run", "/usr/bin/python3", args, 1800, "pytorch", pinnedThreadsEnv(t), c).map((r) => ({ ...r, case: r.case ?? c, threads: r.threads ?? t })));
            rmSync(out, { recursive: true, force: true });
          }
        }
        for (const impl of impls) {
          const dir = path.join(tmp, `run-${child++}`);
          const childEnv = { ...process.env, MATCHLAB_RUNS_DIR: path.join(dir, "runs"), MATCHLAB_CACHE_DIR: path.join(dir, "cache"), MATCHLAB_QUIET: "1" };
          const args = ["--import", "tsx", path.join("bench", "train_run.ts"), ...common, "--cases", c, "--threads", String(threads), "--worker", impl];
          rows.push(...runChild<Row>("train-run", process.execPath, args, 1800, impl, childEnv, c));
          rmSync(dir, { recursive: true, force: true });
        }
      }
      roundRatios(rows, [["ms", "ratio"], ["setup_ms", "setup_ratio"], ["valid_ms", "valid_ratio"]]);
      perRound.push(rows);
      console.error(`bench train-run: round ${round + 1}/${rounds} done`);
    }
    // one line per measurement, in first-round order: medians over the rounds that measured it
    const ours = new Map<string, number>();
    for (const r of perRound.flat()) if (!isPeer(r) && r.params !== undefined) ours.set(r.case, r.params);
    const mismatched: string[] = [];
    for (const out of summariseRounds(perRound, ["samples_per_s", "ms", "ms_median", "cpu_ms", "setup_ms", "untrained_ms", "valid_ms", "run_ms", "ratio", "setup_ratio", "valid_ratio"])) {
      const mine = ours.get(out.case);
      if (out.ms !== undefined && isPeer(out) && out.params !== undefined && mine !== undefined && out.params !== mine) {
        out.params_mismatch = mine;
        mismatched.push(`${out.case}: PyTorch ${out.params} trainable parameters, matchlab ${mine}`);
      }
      console.log(JSON.stringify(out));
    }
    if (mismatched.length > 0) throw new Error(`the twin's model differs from matchlab's (${mismatched.join("; ")})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench train-run: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
