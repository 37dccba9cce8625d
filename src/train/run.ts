/**
 * The one run driver, for every task of the task table: load the dataset, split it with the task,
 * prepare inputs, build the model, measure the untrained model, train with the standard callbacks,
 * checkpoint, and register everything under runs/<id>/ (config.yaml, metrics.csv, checkpoints/,
 * summary.json). `matchlab train`, `cv`, `study`, `validate-pending` and the notebooks use it.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index";
import { badRowsCsv, type Dataset, loadDataset } from "../data/dataset";
import { writeFileAtomic } from "../fs_atomic";
import { env } from "../env";
import { checkName } from "../names";
import { RunNotFoundError } from "../retrieval/embedding_file";
import type { ProgressRenderer } from "../progress";
import { earlyStoppingCallback, etaCallback, evaluateEveryCallback, logEveryCallback, meterCallback, progressCallback, throughputCallback, trainMetricsCallback } from "./callbacks";
import { checkpointCallback, latestCheckpoint, loadCheckpoint, restoreLearner, weightsSha256 } from "./checkpoint";
import { DivergedError } from "./divergence";
import { ConfigError, loadConfig, type RunConfig, resumeDiff, runConfigYaml } from "./config";
import { type Callback, Learner, plannedSteps } from "./learner";
import { buildRunModel, prepareData, type RunModel } from "./model";
import { writeOofEmbeddings } from "./oof";
import { AdamW } from "./optimizer";
import { createRunDir, listRuns, metricsCsvCallback, newRunId, type RunSummary, type RunTiming, readRunSummary, runPaths, SHARED_METRICS_COLUMNS, writeJsonAtomic } from "./registry";
import { lrSchedule } from "./schedule";
import { checkpointOnSignal, PreemptedError } from "./signals";
import { type TaskDef, taskDef } from "./tasks/index";

/** A task ready to train: the shared model parts plus the task's row and its validation. */
export interface RunTask extends RunModel {
  /** The task's row of the task table. */
  def: TaskDef;
  /** The task's validation metrics on the validation rows (the primary metric among them). */
  validate(): Promise<Record<string, number>>;
}

/** Resolves the dataset path of a config against the project root. */
export function datasetPath(cfg: RunConfig): string {
  return path.isAbsolute(cfg.data.dataset) ? cfg.data.dataset : path.join(env.root, cfg.data.dataset);
}

/**
 * Loads a config's dataset as runs do: with `data.on_bad_row: error` every image's header is read
 * (size cap, symlinks) and a bad row stops the load naming it; with `skip` every image is decoded
 * once so that undecodable rows are dropped (and listed in `skipped`) before the folds are made.
 */
export async function loadRunDataset(cfg: RunConfig): Promise<Dataset> {
  const onBadRow = cfg.data.on_bad_row;
  return loadDataset(datasetPath(cfg), { onBadRow, checkImages: onBadRow === "skip" ? "decode" : true });
}

/** Options for {@link prepareTask}. */
export interface PrepareTaskOptions {
  /** Show a progress bar while decoding images. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** An already loaded dataset (else `data.dataset` is loaded). Defaults to none. */
  dataset?: Dataset;
}

/**
 * Loads the dataset, splits it with the config's task and builds the model (no training).
 * @example const task = await prepareTask(loadConfig("configs/quick.yaml")); await task.validate();
 */
export async function prepareTask(cfg: RunConfig, opts: PrepareTaskOptions = {}): Promise<RunTask> {
  const def = taskDef(cfg.task);
  const full = opts.dataset ?? (await loadRunDataset(cfg));
  const ds = cfg.data.limit > 0 ? { ...full, listings: full.listings.slice(0, cfg.data.limit) } : full;
  const split = def.split(ds.listings, cfg);
  const data = await prepareData(ds, cfg, { showProgress: opts.progressBars });
  return runTask(buildRunModel(cfg, data, split));
}

/** A built model as a task of its config's `task`: the model plus the task's row and validation. */
export function runTask(model: RunModel): RunTask {
  const def = taskDef(model.cfg.task);
  return { ...model, def, validate: () => def.validate(model, model.split, model.cfg) };
}

/** The metrics.csv columns of a task: the shared ones, then the task's validation columns. */
export function metricsColumns(def: TaskDef): string[] {
  return [...SHARED_METRICS_COLUMNS, ...def.columns];
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

/** Builds the learner (optimiser, schedule, standard callbacks, the task's primary metric) for a task. */
export function makeLearner(task: RunTask, cfg: RunConfig, opts: MakeLearnerOptions = {}): Learner {
  const { log = (s: string) => process.stderr.write(`${s}\n`), progressBars = env.progress } = opts;
  const o = cfg.optim;
  const t = cfg.train;
  const metric = task.def.metric;
  const optimizer = new AdamW(task.params, { kind: o.optimizer, lr: o.lr, weightDecay: o.weight_decay, groups: o.param_groups.map((g) => ({ match: g.match, lr: g.lr, weightDecay: g.weight_decay })) });
  const bs = o.batch_size;
  const total = plannedSteps({ rows: task.source.size, batchSize: bs, accumulation: t.gradient_accumulation_steps, epochs: o.epochs, maxSteps: t.max_iters });
  const schedule = lrSchedule({ kind: o.schedule, warmupSteps: t.warmup_steps, totalSteps: Math.max(1, total), minFactor: o.min_lr_factor, stepSize: o.step_size, gamma: o.step_gamma });
  const meters = meterCallback();
  const trainMetrics = trainMetricsCallback(task.split.numClasses);
  const eta = etaCallback();
  const callbacks: Callback[] = [meters, trainMetrics, eta];
  if (opts.progressRenderer) callbacks.push(progressCallback({ meters, eta, renderer: opts.progressRenderer, metric: metric.name }));
  else if (progressBars) callbacks.push(progressCallback({ meters, eta, metric: metric.name }));
  if (t.log_period > 0) callbacks.push(logEveryCallback({ period: t.log_period, write: log, meters }));
  if (t.evaluate_during_training && t.ckpt_period > 0) callbacks.push(evaluateEveryCallback(t.ckpt_period));
  if (t.early_stopping_patience > 0) callbacks.push(earlyStoppingCallback({ monitor: metric.name, mode: metric.mode, patience: t.early_stopping_patience, minDelta: t.early_stopping_min_delta }));
  if (opts.metricsFile) callbacks.push(metricsCsvCallback({ file: opts.metricsFile, columns: metricsColumns(task.def), trainMetrics: () => trainMetrics.epochMetrics(), trainLoss: () => meters.epochLoss.value }));
  if (opts.checkpointsDir) {
    callbacks.push(
      checkpointCallback({
        dir: opts.checkpointsDir,
        period: t.ckpt_period,
        keep: t.keep_checkpoints,
        monitor: metric.name,
        mode: metric.mode,
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
    maxNonfiniteSteps: t.stop_on_nan ? t.max_nonfinite_steps : 0,
    schedule,
    seed: cfg.seed,
    validate: task.split.valid.length > 0 ? () => task.validate() : undefined,
    callbacks,
  });
}

/** Options for {@link trainRun}. */
export interface TrainRunOptions {
  /** Run id; defaults to a new one (or, with `resume`, the newest unfinished run of the same name, task, fold and seed). */
  runId?: string;
  /** Continue from the run's newest checkpoint. Defaults to false. */
  resume?: boolean;
  /** Where runs live. Defaults to `env.runsDir`. */
  runsDir?: string;
  /** An already loaded dataset (else `data.dataset` is loaded). Defaults to none. */
  dataset?: Dataset;
  /** Extra callbacks. Defaults to none. */
  callbacks?: Callback[];
  /** Log lines (JSON) go here. Defaults to stderr. */
  log?: (line: string) => void;
  /** Show progress bars. Defaults to `env.progress`. */
  progressBars?: boolean;
  /** Renderer for the progress bars (e.g. the notebook's). Defaults to the current renderer. */
  progressRenderer?: ProgressRenderer;
  /** Skip backend initialisation (the caller did it). Defaults to false. */
  skipBackend?: boolean;
  /** Keep the model's weights in memory after the run (`result.task`); otherwise they are freed. Defaults to false. */
  keepModel?: boolean;
  /** On this signal, checkpoint at the next step boundary and throw `PreemptedError` (`train/signals.ts`; `matchlab train` uses SIGUSR2). Defaults to none. */
  checkpointSignal?: NodeJS.Signals;
}

/** A run's outcome as `matchlab train --json` prints it (and `matchlab cv` reads it back). */
export interface TrainRunLine {
  run: string;
  task: string;
  /** The primary metric's name. */
  metric: string;
  untrained: number | null;
  best: number | null;
  final: number | null;
  steps: number;
  weights_sha256: string;
}

/** The `--json` line of a run: {@link TrainRunLine}'s fields, in that order. */
export function trainRunLine(r: TrainRunLine): TrainRunLine {
  return { run: r.run, task: r.task, metric: r.metric, untrained: r.untrained, best: r.best, final: r.final, steps: r.steps, weights_sha256: r.weights_sha256 };
}

/** What {@link trainRun} returns: the `--json` line's fields, plus where the run is, the task and the learner. */
export interface TrainRunResult extends TrainRunLine {
  dir: string;
  stopReason: string;
  seconds: number;
  /** Where this invocation's time went (summary.json's `timing`). */
  timing: RunTiming;
  /** The trained task (weights freed unless `keepModel`). */
  model: RunTask;
  learner: Learner;
}

function findResumable(runsDir: string, cfg: RunConfig): string | null {
  const prefix = `${cfg.name}-f${cfg.data.fold}-s${cfg.seed}-`;
  const hit = listRuns(runsDir).find((r) => r.id.startsWith(prefix) && r.summary?.status !== "finished" && r.summary?.task === cfg.task);
  return hit ? hit.id : null;
}

/**
 * Trains one fold of a config (a path or a resolved config), for any task.
 * @example const r = await trainRun("configs/quick.yaml"); r.metric; r.best;
 */
export async function trainRun(config: string | RunConfig, opts: TrainRunOptions = {}): Promise<TrainRunResult> {
  const cfg = typeof config === "string" ? loadConfig(config) : config;
  if (Object.keys(cfg.grid).length > 0) throw new ConfigError(`${typeof config === "string" ? config : "config"}: has a grid (${Object.keys(cfg.grid).join(", ")}); run it with matchlab study (train runs one config)`, "grid");
  const { runsDir = env.runsDir, log = (s: string) => process.stderr.write(`${s}\n`), progressBars = env.progress } = opts;
  checkName("config name", cfg.name);
  if (opts.runId !== undefined) checkName("run id", opts.runId);
  const t0 = Date.now();
  const backend = opts.skipBackend ? tf.getBackend() : (await initBackend({ backend: cfg.backend })).backend;
  let id = opts.runId;
  if (opts.resume && !id) {
    id = findResumable(runsDir, cfg) ?? undefined;
    if (!id) throw new RunNotFoundError(`--resume: no unfinished ${cfg.task} run of ${cfg.name} (fold ${cfg.data.fold}, seed ${cfg.seed}) under ${runsDir}; pass --run <id>`);
  }
  id ??= newRunId(runsDir, cfg.name, cfg.data.fold, cfg.seed);
  const p = runPaths(runsDir, id);
  const onSignal = opts.checkpointSignal ? checkpointOnSignal({ dir: p.checkpoints, signal: opts.checkpointSignal, config: cfg, log }) : null;
  try {
    return await trainRunIn(cfg, id, p, opts, backend, t0, log, progressBars, onSignal ? [...(opts.callbacks ?? []), onSignal] : opts.callbacks);
  } finally {
    onSignal?.dispose();
  }
}

async function trainRunIn(cfg: RunConfig, id: string, p: ReturnType<typeof runPaths>, opts: TrainRunOptions, backend: string, t0: number, log: (line: string) => void, progressBars: boolean, callbacks: Callback[] | undefined): Promise<TrainRunResult> {
  const { runsDir = env.runsDir } = opts;
  const tSetup = performance.now();
  if (opts.resume && !existsSync(p.dir)) throw new RunNotFoundError(`--resume: run ${id} not found (looked for ${p.dir}; runs live in ${runsDir}; matchlab runs lists them)`);
  if (!opts.resume && existsSync(p.summary)) throw new Error(`run ${id} already exists in ${runsDir}; pass --resume to continue it or choose another --run`);
  const ckpt = opts.resume ? latestCheckpoint(p.checkpoints) : null;
  const def = taskDef(cfg.task);
  if (opts.resume && existsSync(p.config)) checkResume(runConfig(runsDir, id), cfg, p.changes, log);
  createRunDir(runsDir, id, opts.resume && existsSync(p.config) ? null : runConfigYaml(cfg), metricsColumns(def));
  const dataset = opts.dataset ?? (await loadRunDataset(cfg));
  if (dataset.skipped.length > 0) {
    writeFileAtomic(path.join(p.dir, "bad_rows.csv"), badRowsCsv(dataset.skipped));
    log(JSON.stringify({ event: "bad_rows", skipped: dataset.skipped.length, file: path.join(p.dir, "bad_rows.csv") }));
  }
  const task = await prepareTask(cfg, { progressBars, dataset });
  const throughput = throughputCallback();
  const learner = makeLearner(task, cfg, { checkpointsDir: p.checkpoints, metricsFile: p.metrics, log, progressBars, progressRenderer: opts.progressRenderer, callbacks: [...(callbacks ?? []), throughput] });
  const setupMs = performance.now() - tSetup;
  let untrainedMs = 0;
  const prev = readRunSummary(runsDir, id);
  let untrained: number | null = prev?.untrained ?? null;
  if (ckpt) {
    restoreLearner(learner, loadCheckpoint(ckpt), ckpt);
    log(JSON.stringify({ event: "resume", file: path.basename(ckpt), step: learner.step, epoch: learner.epoch, batch: learner.batchInEpoch }));
  } else if (untrained === null && task.split.valid.length > 0) {
    const tu = performance.now();
    untrained = (await task.validate())[def.metric.name] ?? null;
    untrainedMs = performance.now() - tu;
    log(JSON.stringify({ event: "untrained", [def.metric.name]: untrained }));
  }
  const summary = (status: RunSummary["status"], extra: Partial<RunSummary> = {}): RunSummary => ({
    run: id,
    task: cfg.task,
    name: cfg.name,
    fold: cfg.data.fold,
    seed: cfg.seed,
    classes: task.split.numClasses,
    status,
    stopReason: learner.stopReason,
    steps: learner.step,
    epochs: learner.epoch,
    metric: def.metric.name,
    metric_mode: def.metric.mode,
    untrained,
    best: null,
    final: null,
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
    if (e instanceof DivergedError) {
      const last = latestCheckpoint(p.checkpoints);
      e.message += last ? `; last good checkpoint ${path.basename(last)} kept` : "; no checkpoint written";
      log(JSON.stringify({ event: "diverged", ...e.info, loss: String(e.info.loss), gradNorm: String(e.info.gradNorm), checkpoint: last ? path.basename(last) : null }));
    }
    const status: RunSummary["status"] = e instanceof PreemptedError ? "preempted" : e instanceof DivergedError ? "diverged" : "failed";
    writeJsonAtomic(p.summary, summary(status, { stopReason: e instanceof Error ? e.message : String(e) }));
    if (!opts.keepModel) task.dispose();
    throw e;
  }
  const ckCb = learner.callbacks.find((c) => c.name === "checkpoint") as ReturnType<typeof checkpointCallback> | undefined;
  const best = ckCb && Number.isFinite(ckCb.best.best) ? ckCb.best.best : null;
  const sha = weightsSha256(task.stateVariables());
  const final = learner.metrics[def.metric.name] ?? null;
  const status: RunSummary["status"] = learner.stopReason && !learner.stopReason.startsWith("max_iters") ? "stopped" : "finished";
  if (def.embeds && task.split.valid.length > 0) {
    const file = writeOofEmbeddings(task, id, p.checkpoints, p.oof);
    log(JSON.stringify({ event: "oof", rows: task.split.valid.length, branches: task.net.branches, checkpoint: file }));
  }
  const th = throughput.summary();
  const timing: RunTiming = {
    setup_s: setupMs / 1000,
    untrained_s: untrainedMs / 1000,
    train_s: th.train_ms / 1000,
    train_cpu_s: th.train_cpu_ms / 1000,
    valid_s: th.valid_ms.reduce((a, b) => a + b, 0) / 1000,
    steps: th.steps,
    samples: th.samples,
    samples_per_s: Number.isFinite(th.samples_per_s) ? th.samples_per_s : null,
  };
  const s = summary(status, { best, final, weights_sha256: sha, timing });
  writeJsonAtomic(p.summary, s);
  learner.optimizer.dispose();
  if (!opts.keepModel) task.dispose();
  return { run: id, dir: p.dir, task: cfg.task, metric: def.metric.name, untrained, best, final, steps: learner.step, weights_sha256: sha, stopReason: learner.stopReason, seconds: s.seconds, timing, model: task, learner };
}

/**
 * Refuses a resume whose config changes model, data, task or optimisation keys (naming them); lets
 * the schedule's length (epochs, max_iters) change with a note, recorded in config_changes.json.
 */
function checkResume(before: RunConfig, now: RunConfig, changesFile: string, log: (line: string) => void): void {
  const d = resumeDiff(before, now);
  const show = (xs: [string, unknown, unknown][]) => xs.map(([k, a, b]) => `${k}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`).join(", ");
  if (d.refused.length > 0) throw new ConfigError(`--resume: the config differs from the run's in ${show(d.refused)}; a resumed run keeps its model, data and training keys (only optim.epochs and train.max_iters may change): start a new run instead`, d.refused[0]![0]);
  if (d.schedule.length === 0) return;
  log(JSON.stringify({ event: "resume-config", note: `schedule length changed: ${show(d.schedule)}` }));
  const prev = existsSync(changesFile) ? (JSON.parse(readFileSync(changesFile, "utf8")) as unknown[]) : [];
  writeJsonAtomic(changesFile, [...prev, { at: new Date().toISOString(), changes: Object.fromEntries(d.schedule.map(([k, a, b]) => [k, { before: a, now: b }])) }]);
}

/** Reads a run's config.yaml back (validated). */
export function runConfig(runsDir: string, id: string): RunConfig {
  const f = runPaths(runsDir, id).config;
  if (!existsSync(f)) throw new Error(`run ${id}: no config.yaml in ${path.dirname(f)}`);
  return loadConfig(f);
}
