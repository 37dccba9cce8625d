/**
 * `trainRun`: one training run end to end, as `matchlab train` and the notebooks use it:
 * load the dataset, prepare arrays, build the task, measure the untrained model, train with the
 * standard callbacks, checkpoint, and register everything under runs/<id>/.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index";
import { loadDataset } from "../data/dataset";
import { env } from "../env";
import type { ProgressRenderer } from "../progress";
import { configToYaml, loadConfig, type RunConfig } from "./config";
import { checkpointCallback, latestCheckpoint, loadCheckpoint, restoreLearner, weightsSha256 } from "./checkpoint";
import { earlyStoppingCallback, etaCallback, evaluateEveryCallback, logEveryCallback, meterCallback, progressCallback, stopOnNanCallback } from "./callbacks";
import { type Callback, Learner } from "./learner";
import { AdamW } from "./optimizer";
import { createRunDir, listRuns, metricsCsvCallback, newRunId, type RunSummary, readRunSummary, runPaths, writeJsonAtomic } from "./registry";
import { lrSchedule } from "./schedule";
import { buildTask, type MatchTask, prepareData, trainMetricsCallback } from "./task";

/** Options for {@link trainRun}. */
export interface TrainRunOptions {
  /** Run id; defaults to a new one (or, with `resume`, the newest unfinished run of the same name, fold and seed). */
  runId?: string;
  /** Continue from the run's newest checkpoint. Defaults to false. */
  resume?: boolean;
  /** Where runs live. Defaults to `env.runsDir`. */
  runsDir?: string;
  /** Extra callbacks. Defaults to none. */
  callbacks?: Callback[];
  /** Log lines (JSON) go here. Defaults to stderr. */
  log?: (line: string) => void;
  /** Show progress bars. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** Skip backend initialisation (the caller did it). Defaults to false. */
  skipBackend?: boolean;
}

/** What {@link trainRun} returns (the `--json` line's fields, plus the task for further use). */
export interface TrainRunResult {
  run: string;
  dir: string;
  best_val_f1: number | null;
  untrained_val_f1: number | null;
  final_val_f1: number | null;
  steps: number;
  weights_sha256: string;
  stopReason: string;
  seconds: number;
  task: MatchTask;
  learner: Learner;
}

/** Resolves the dataset path of a config against the project root. */
export function datasetPath(cfg: RunConfig): string {
  return path.isAbsolute(cfg.data.dataset) ? cfg.data.dataset : path.join(env.root, cfg.data.dataset);
}

/** Loads a dataset and builds the task for a config (no training). */
export async function prepareTask(cfg: RunConfig, opts: { progressBars?: boolean } = {}): Promise<MatchTask> {
  const ds = await loadDataset(datasetPath(cfg), { checkImages: "exists" });
  const listings = cfg.data.limit > 0 ? ds.listings.slice(0, cfg.data.limit) : ds.listings;
  const data = await prepareData(listings, cfg, { cacheDir: env.cacheDir, label: opts.progressBars === false ? null : "decode images", dataset: ds });
  return buildTask(cfg, data);
}

/** Options for {@link makeLearner}. */
export interface MakeLearnerOptions {
  /** Folder for checkpoints; none saved when absent. Defaults to none. */
  checkpointsDir?: string;
  /** metrics.csv path; none written when absent. Defaults to none. */
  metricsFile?: string;
  /** Where JSON log lines go. Defaults to stderr. */
  log?: (s: string) => void;
  /** Show a progress bar per epoch. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** Renderer for the progress bars (e.g. the notebook's); setting it turns the bars on. Defaults to the current renderer. */
  progressRenderer?: ProgressRenderer;
  /** Extra callbacks. Defaults to none. */
  callbacks?: Callback[];
}

/** Builds the learner (optimiser, schedule, standard callbacks) for a task. */
export function makeLearner(task: MatchTask, cfg: RunConfig, opts: MakeLearnerOptions = {}): Learner {
  const { log = (s: string) => process.stderr.write(`${s}\n`), progressBars = env.progress } = opts;
  const o = cfg.optim;
  const t = cfg.train;
  const optimizer = new AdamW(task.params, { kind: o.optimizer, lr: o.lr, weightDecay: o.weight_decay, groups: o.param_groups.map((g) => ({ match: g.match, lr: g.lr, weightDecay: g.weight_decay })) });
  const bs = o.batch_size;
  const perEpoch = Math.ceil(Math.floor(task.source.size / bs) / t.gradient_accumulation_steps);
  const total = t.max_iters > 0 ? Math.min(t.max_iters, perEpoch * o.epochs) : perEpoch * o.epochs;
  const schedule = lrSchedule({ kind: o.schedule, warmupSteps: t.warmup_steps, totalSteps: Math.max(1, total), minFactor: o.min_lr_factor, stepSize: o.step_size, gamma: o.step_gamma });
  const meters = meterCallback();
  const trainMetrics = trainMetricsCallback(task.numClasses);
  const eta = etaCallback();
  const callbacks: Callback[] = [meters, trainMetrics, eta];
  if (t.stop_on_nan) callbacks.push(stopOnNanCallback());
  if (opts.progressRenderer) callbacks.push(progressCallback({ meters, eta, renderer: opts.progressRenderer }));
  else if (progressBars) callbacks.push(progressCallback({ meters, eta }));
  if (t.log_period > 0) callbacks.push(logEveryCallback({ period: t.log_period, write: log, meters }));
  if (t.evaluate_during_training && t.ckpt_period > 0) callbacks.push(evaluateEveryCallback(t.ckpt_period));
  if (t.early_stopping_patience > 0) callbacks.push(earlyStoppingCallback({ patience: t.early_stopping_patience, minDelta: t.early_stopping_min_delta }));
  if (opts.metricsFile) callbacks.push(metricsCsvCallback({ file: opts.metricsFile, trainMetrics: () => trainMetrics.epochMetrics(), trainLoss: () => meters.epochLoss.value }));
  if (opts.checkpointsDir) {
    callbacks.push(
      checkpointCallback({
        dir: opts.checkpointsDir,
        period: t.ckpt_period,
        keep: t.keep_checkpoints,
        config: cfg,
        onSave: (file, l) => log(JSON.stringify({ event: "checkpoint", file: path.basename(file), step: l.step, epoch: l.epoch, batch: l.batchInEpoch })),
      }),
    );
  }
  callbacks.push(...(opts.callbacks ?? []));
  return new Learner({
    params: task.params,
    stateVariables: task.stateVariables,
    forward: task.forward,
    data: task.source,
    optimizer,
    batchSize: bs,
    epochs: o.epochs,
    maxSteps: t.max_iters,
    gradientAccumulationSteps: t.gradient_accumulation_steps,
    maxGradNorm: t.max_grad_norm,
    schedule,
    seed: cfg.seed,
    validate: () => task.validate(),
    callbacks,
  });
}

function findResumable(runsDir: string, cfg: RunConfig): string | null {
  const prefix = `${cfg.name}-f${cfg.data.fold}-s${cfg.seed}-`;
  const hit = listRuns(runsDir).find((r) => r.id.startsWith(prefix) && r.summary?.status !== "finished" && r.summary?.task !== "classify");
  return hit ? hit.id : null;
}

/**
 * Runs training for a config (a path or a resolved config).
 * @example const r = await trainRun("configs/quick.yaml"); r.best_val_f1;
 */
export async function trainRun(config: string | RunConfig, opts: TrainRunOptions = {}): Promise<TrainRunResult> {
  const cfg = typeof config === "string" ? loadConfig(config) : config;
  const { runsDir = env.runsDir, log = (s: string) => process.stderr.write(`${s}\n`), progressBars = env.progress } = opts;
  const t0 = Date.now();
  const backend = opts.skipBackend ? tf.getBackend() : (await initBackend({ backend: cfg.backend })).backend;
  let id = opts.runId;
  if (opts.resume && !id) {
    id = findResumable(runsDir, cfg) ?? undefined;
    if (!id) throw new Error(`--resume: no unfinished run of ${cfg.name} (fold ${cfg.data.fold}, seed ${cfg.seed}) under ${runsDir}; pass --run <id>`);
  }
  id ??= newRunId(runsDir, cfg.name, cfg.data.fold, cfg.seed);
  const p = runPaths(runsDir, id);
  const ckpt = opts.resume ? latestCheckpoint(p.checkpoints) : null;
  if (opts.resume && !existsSync(p.dir)) throw new Error(`--resume: run folder ${p.dir} does not exist`);
  if (!opts.resume && existsSync(p.summary)) throw new Error(`run ${id} already exists in ${runsDir}; pass --resume to continue it or choose another --run`);
  createRunDir(runsDir, id, configToYaml(cfg));
  const task = await prepareTask(cfg, { progressBars });
  const learner = makeLearner(task, cfg, { checkpointsDir: p.checkpoints, metricsFile: p.metrics, log, progressBars, callbacks: opts.callbacks });
  const prev = readRunSummary(runsDir, id);
  let untrained: number | null = prev?.untrained_val_f1 ?? null;
  if (ckpt) {
    restoreLearner(learner, loadCheckpoint(ckpt), ckpt);
    log(JSON.stringify({ event: "resume", file: path.basename(ckpt), step: learner.step, epoch: learner.epoch, batch: learner.batchInEpoch }));
  } else if (untrained === null) {
    untrained = (await task.validate()).val_f1 ?? null;
    log(JSON.stringify({ event: "untrained", val_f1: untrained }));
  }
  const summary = (status: RunSummary["status"], extra: Partial<RunSummary> = {}): RunSummary => ({
    run: id!,
    task: "match",
    name: cfg.name,
    fold: cfg.data.fold,
    seed: cfg.seed,
    status,
    stopReason: learner.stopReason,
    steps: learner.step,
    epochs: learner.epoch,
    untrained_val_f1: untrained,
    best_val_f1: null,
    final_val_f1: null,
    weights_sha256: null,
    backend,
    seconds: (prev?.seconds ?? 0) + (Date.now() - t0) / 1000,
    updated: new Date().toISOString(),
    ...extra,
  });
  writeJsonAtomic(p.summary, summary("running"));
  try {
    await learner.fit();
  } catch (e) {
    writeJsonAtomic(p.summary, summary("failed", { stopReason: e instanceof Error ? e.message : String(e) }));
    throw e;
  }
  const ckCb = learner.callbacks.find((c) => c.name === "checkpoint") as ReturnType<typeof import("./checkpoint").checkpointCallback> | undefined;
  const best = ckCb && Number.isFinite(ckCb.best.best) ? ckCb.best.best : null;
  const sha = weightsSha256(task.stateVariables());
  const finalF1 = learner.metrics.val_f1 ?? null;
  const status: RunSummary["status"] = learner.stopReason && !learner.stopReason.startsWith("max_iters") ? "stopped" : "finished";
  const s = summary(status, { best_val_f1: best, final_val_f1: finalF1, weights_sha256: sha });
  writeJsonAtomic(p.summary, s);
  return { run: id, dir: p.dir, best_val_f1: best, untrained_val_f1: untrained, final_val_f1: finalF1, steps: learner.step, weights_sha256: sha, stopReason: learner.stopReason, seconds: s.seconds, task, learner };
}

/** Reads a run's config.yaml back (validated). */
export function runConfig(runsDir: string, id: string): RunConfig {
  const f = runPaths(runsDir, id).config;
  if (!existsSync(f)) throw new Error(`run ${id}: no config.yaml in ${path.dirname(f)}`);
  return loadConfig(f);
}

/** Reads a file if it exists. */
export function readIfExists(file: string): string | null {
  return existsSync(file) ? readFileSync(file, "utf8") : null;
}
