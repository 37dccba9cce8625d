/**
 * The standard callbacks: smoothed meters, ETA (with an injectable clock), a progress bar, logging
 * every N steps, evaluating every N steps, early stopping, stopping on NaN. Plain objects; each
 * keeps its own state and saves it with checkpoints when it has a `name`.
 */
import { precisionRecallF1, topKAccuracy } from "../metrics/classification";
import { formatDuration, progress, type ProgressBar, type ProgressRenderer } from "../progress";
import { type Callback, CancelFitError, type Learner } from "./learner";

/** An exponentially smoothed value with bias correction (fastai's SmoothenValue). */
export class SmoothedMeter {
  private mov = 0;
  private n = 0;
  constructor(readonly beta = 0.98) {}
  /** Adds a value. */
  add(v: number): void {
    this.n++;
    this.mov = this.beta * this.mov + (1 - this.beta) * v;
  }
  /** The debiased smoothed value (NaN before any value). */
  get value(): number {
    return this.n === 0 ? Number.NaN : this.mov / (1 - this.beta ** this.n);
  }
  /** For checkpoints. */
  get state(): { mov: number; n: number } {
    return { mov: this.mov, n: this.n };
  }
  set state(s: { mov: number; n: number }) {
    this.mov = s.mov;
    this.n = s.n;
  }
}

/** A running mean. */
export class AverageMeter {
  sum = 0;
  count = 0;
  /** Adds a value with a weight (count). */
  add(v: number, n = 1): void {
    this.sum += v * n;
    this.count += n;
  }
  get value(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }
  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
}

/** Options for {@link etaCallback}. */
export interface EtaOptions {
  /** The clock (ms). Defaults to `Date.now`. */
  now?: () => number;
}

/** Estimates the time left from the optimiser-step rate since fit started. */
export interface EtaCallback extends Callback {
  /** Milliseconds left (NaN until known). */
  remainingMs(): number;
  /** Formatted, e.g. "3m05s". */
  eta(): string;
}

/** Tracks steps per second and predicts the remaining time to the end of training (epochs × batches, or max steps). */
export function etaCallback(opts: EtaOptions = {}): EtaCallback {
  const { now = Date.now } = opts;
  let t0 = 0;
  let s0 = 0;
  let learnerRef: Learner | null = null;
  const total = (l: Learner) => {
    const perEpoch = Math.ceil(l.batchesPerEpoch / l.accumulation);
    const byEpochs = perEpoch > 0 ? l.epochs * perEpoch : Number.POSITIVE_INFINITY;
    return l.maxSteps > 0 ? Math.min(l.maxSteps, byEpochs) : byEpochs;
  };
  const remainingMs = () => {
    const l = learnerRef;
    if (!l || l.step <= s0) return Number.NaN;
    const rate = (now() - t0) / (l.step - s0);
    return Math.max(0, total(l) - l.step) * rate;
  };
  return {
    order: -5,
    beforeFit(l) {
      learnerRef = l;
      t0 = now();
      s0 = l.step;
    },
    remainingMs,
    eta: () => formatDuration(remainingMs()),
  };
}

/** Options for {@link meterCallback}. */
export interface MeterOptions {
  /** Smoothing β. Defaults to 0.98. */
  beta?: number;
}

/** The smoothed training loss and the epoch's mean loss. */
export interface MeterCallback extends Callback {
  smooth: SmoothedMeter;
  epochLoss: AverageMeter;
}

/** Keeps a smoothed loss (for display) and the mean loss of the current epoch (for metrics.csv). */
export function meterCallback(opts: MeterOptions = {}): MeterCallback {
  const smooth = new SmoothedMeter(opts.beta ?? 0.98);
  const epochLoss = new AverageMeter();
  return {
    name: "meters",
    order: -10,
    smooth,
    epochLoss,
    beforeEpoch(l) {
      if (l.batchInEpoch === 0) epochLoss.reset();
    },
    afterBatch(l) {
      smooth.add(l.loss);
      epochLoss.add(l.loss, l.batch ? l.batch.indices.length : 1);
    },
    state: () => ({ smooth: smooth.state, sum: epochLoss.sum, count: epochLoss.count }),
    loadState(s) {
      const st = s as { smooth: { mov: number; n: number }; sum: number; count: number };
      smooth.state = st.smooth;
      epochLoss.sum = st.sum;
      epochLoss.count = st.count;
    },
  };
}

/** Options for {@link throughputCallback}. */
export interface ThroughputOptions {
  /** Wall clock (ms). Defaults to `performance.now`. */
  now?: () => number;
  /** Process CPU clock (ms, every thread of the process). Defaults to `process.cpuUsage` (user + system). */
  cpuNow?: () => number;
}

/** What {@link ThroughputCallback.summary} returns: training throughput and validation time. */
export interface ThroughputSummary {
  /** Batches timed (those after the first `warmup`). */
  steps: number;
  /** Rows in the timed batches. */
  samples: number;
  /** Wall ms of the timed batches, together. */
  train_ms: number;
  /** Process CPU ms of the timed batches, together. */
  train_cpu_ms: number;
  /** samples / train_ms, per second (NaN when nothing was timed). */
  samples_per_s: number;
  /** Median wall ms of one timed batch (NaN when none). */
  step_ms_median: number;
  /** Wall ms of each validation during fit, in order. */
  valid_ms: number[];
}

/**
 * Wall and CPU time of every training batch and every validation during fit: a batch's time runs
 * from the end of the previous batch (or the epoch's start) to the end of its own `afterBatch`
 * (making the batch: loading and augmenting; forward, backward, the optimiser step; what the other
 * callbacks do after it); a validation's from `beforeValidate` to `afterValidate`. It runs last
 * (order 100) and saves no state.
 */
export interface ThroughputCallback extends Callback {
  /** Wall ms of each batch, in order. */
  stepMs: number[];
  /** CPU ms of each batch, in order. */
  stepCpuMs: number[];
  /** Rows of each batch, in order. */
  stepRows: number[];
  /** Wall ms of each validation, in order. */
  validMs: number[];
  /** Totals over the batches after the first `warmup` (default 0). */
  summary(warmup?: number): ThroughputSummary;
}

/** Times training batches and validations (see {@link ThroughputCallback}). */
export function throughputCallback(opts: ThroughputOptions = {}): ThroughputCallback {
  const {
    now = () => performance.now(),
    cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
  } = opts;
  const stepMs: number[] = [];
  const stepCpuMs: number[] = [];
  const stepRows: number[] = [];
  const validMs: number[] = [];
  let t = 0;
  let c = 0;
  let v = 0;
  const mark = () => {
    t = now();
    c = cpuNow();
  };
  return {
    order: 100,
    stepMs,
    stepCpuMs,
    stepRows,
    validMs,
    beforeEpoch() {
      mark();
    },
    afterBatch(l) {
      const t1 = now();
      const c1 = cpuNow();
      stepMs.push(t1 - t);
      stepCpuMs.push(c1 - c);
      stepRows.push(l.batch ? l.batch.indices.length : 0);
      t = t1;
      c = c1;
    },
    beforeValidate() {
      v = now();
    },
    afterValidate() {
      validMs.push(now() - v);
    },
    summary(warmup = 0) {
      const ms = stepMs.slice(warmup);
      const trainMs = ms.reduce((a, b) => a + b, 0);
      const samples = stepRows.slice(warmup).reduce((a, b) => a + b, 0);
      const sorted = [...ms].sort((a, b) => a - b);
      const h = sorted.length >> 1;
      const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
      return {
        steps: ms.length,
        samples,
        train_ms: trainMs,
        train_cpu_ms: stepCpuMs.slice(warmup).reduce((a, b) => a + b, 0),
        samples_per_s: trainMs > 0 ? (samples * 1000) / trainMs : Number.NaN,
        step_ms_median: median,
        valid_ms: [...validMs],
      };
    },
  };
}

/** Options for {@link progressCallback}. */
export interface ProgressCallbackOptions {
  /** The meters to show the loss from. Required. */
  meters: MeterCallback;
  /** ETA source. Defaults to none. */
  eta?: EtaCallback;
  /** Renderer override (tests). Defaults to the current one (terminal, or the notebook's). */
  renderer?: ProgressRenderer | null;
  /** The validation metric to show (the task's primary metric). Defaults to "val_f1". */
  metric?: string;
}

/** One progress bar per epoch, noting the smoothed loss, LR factor, last value of the primary metric and ETA. */
export function progressCallback(opts: ProgressCallbackOptions): Callback {
  const { metric = "val_f1" } = opts;
  let bar: ProgressBar | null = null;
  const note = (l: Learner) => {
    const parts = [`loss ${opts.meters.smooth.value.toFixed(4)}`, `lr×${l.lrFactor.toFixed(3)}`];
    if (l.metrics[metric] !== undefined) parts.push(`${metric} ${l.metrics[metric].toFixed(4)}`);
    if (opts.eta) parts.push(`eta ${opts.eta.eta()}`);
    return parts.join(" ");
  };
  return {
    order: 5,
    beforeEpoch(l) {
      bar = progress({ label: `epoch ${l.epoch + 1}/${l.epochs}`, total: l.batchesPerEpoch, ...(opts.renderer !== undefined ? { renderer: opts.renderer } : {}) });
      if (l.batchInEpoch > 0) bar.tick(l.batchInEpoch);
    },
    afterBatch(l) {
      bar?.tick(1, note(l));
    },
    afterEpoch(l) {
      bar?.finish(note(l));
      bar = null;
    },
  };
}

/** Options for {@link logEveryCallback}. */
export interface LogEveryOptions {
  /** Log every this many optimiser steps. Required. */
  period: number;
  /** Where lines go. Defaults to stderr. */
  write?: (line: string) => void;
  meters?: MeterCallback;
}

/** Writes one JSON line every `period` optimiser steps: step, epoch, smoothed loss, LR factor, grad norm. */
export function logEveryCallback(opts: LogEveryOptions): Callback {
  const { period, write = (s: string) => process.stderr.write(`${s}\n`), meters } = opts;
  return {
    order: 6,
    afterBatch(l) {
      if (!l.stepped || period <= 0 || l.step % period !== 0) return;
      write(JSON.stringify({ event: "log", step: l.step, epoch: l.epoch, loss: l.loss, smooth_loss: meters?.smooth.value, lr_factor: l.lrFactor, grad_norm: l.gradNorm }));
    },
  };
}

/** Runs validation every `period` optimiser steps (the VQA notes' evaluate_during_training). */
export function evaluateEveryCallback(period: number): Callback {
  return {
    order: 10,
    async afterBatch(l) {
      if (l.stepped && period > 0 && l.step % period === 0 && l.batchInEpoch < l.batchesPerEpoch) await l.runValidate();
    },
  };
}

/** Options for {@link earlyStoppingCallback}. */
export interface EarlyStoppingOptions {
  /** Metric name in the validation results. Defaults to "val_f1". */
  monitor?: string;
  /** `max` or `min`. Defaults to "max". */
  mode?: "max" | "min";
  /** Validations without improvement before stopping. Defaults to 3. */
  patience?: number;
  /** Least change that counts as improvement. Defaults to 0. */
  minDelta?: number;
}

/** Tracks the best value of a monitored metric (shared by early stopping and keep-best checkpoints). */
export class Tracker {
  best: number;
  wait = 0;
  constructor(readonly mode: "max" | "min", readonly minDelta = 0) {
    if (mode !== "max" && mode !== "min") throw new Error(`unknown mode: ${mode as string} (expected max|min)`);
    this.best = mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  /** Records a value; returns whether it improved on the best. */
  update(v: number): boolean {
    const better = this.mode === "max" ? v > this.best + this.minDelta : v < this.best - this.minDelta;
    if (better) {
      this.best = v;
      this.wait = 0;
    } else this.wait++;
    return better;
  }
}

/** Stops training when the monitored metric has not improved for `patience` validations. */
export function earlyStoppingCallback(opts: EarlyStoppingOptions = {}): Callback {
  const { monitor = "val_f1", mode = "max", patience = 3, minDelta = 0 } = opts;
  const tr = new Tracker(mode, minDelta);
  return {
    name: "early_stopping",
    order: 30,
    afterValidate(l) {
      const v = l.metrics[monitor];
      if (v === undefined) throw new Error(`early stopping: metric ${monitor} not in validation results (have ${Object.keys(l.metrics).join(", ")})`);
      tr.update(v);
      if (tr.wait >= patience) throw new CancelFitError(`early stopping: ${monitor} did not improve for ${patience} validations (best ${tr.best})`);
    },
    state: () => ({ best: tr.best, wait: tr.wait }),
    loadState(s) {
      const st = s as { best: number | null; wait: number };
      tr.best = st.best ?? (mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
      tr.wait = st.wait;
    },
  };
}

/** Stops training when the loss is NaN or infinite. */
export function stopOnNanCallback(): Callback {
  return {
    order: -20,
    afterBatch(l) {
      if (!Number.isFinite(l.loss)) throw new CancelFitError(`loss is ${l.loss} at step ${l.step} (epoch ${l.epoch}); stopping`);
    },
  };
}

/** Per-epoch training classification metrics from the margin-free logits of the main head. */
export interface TrainMetricsCallback extends Callback {
  /** The finished epoch's metrics (train_*), set at afterEpoch... read them in a later-ordered callback. */
  epochMetrics(): Record<string, number>;
}

/** Accumulates train accuracy, top-5 and macro/micro P/R/F1 over each epoch (state saved in checkpoints). */
export function trainMetricsCallback(numClasses: number): TrainMetricsCallback {
  let yTrue: number[] = [];
  let yPred: number[] = [];
  let top5Hits = 0;
  return {
    name: "train_metrics",
    order: -9,
    beforeEpoch(l) {
      if (l.batchInEpoch === 0) {
        yTrue = [];
        yPred = [];
        top5Hits = 0;
      }
    },
    afterBatch(l) {
      const logits = l.outputs.logits;
      if (!logits || !l.batch) return;
      const scores = logits.dataSync();
      const y = l.batch.labels.dataSync();
      const C = logits.shape[1]!;
      for (let i = 0; i < y.length; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (scores[i * C + c]! > scores[i * C + best]!) best = c;
        yTrue.push(y[i]!);
        yPred.push(best);
      }
      top5Hits += topKAccuracy(y, scores, C, Math.min(5, C)) * y.length;
    },
    epochMetrics(): Record<string, number> {
      if (yTrue.length === 0) return {};
      const prf = precisionRecallF1(yTrue, yPred, { numClasses });
      let correct = 0;
      for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
      return {
        train_accuracy: correct / yTrue.length,
        train_top5: top5Hits / yTrue.length,
        train_macro_precision: prf.macro.precision,
        train_macro_recall: prf.macro.recall,
        train_macro_f1: prf.macro.f1,
        train_micro_precision: prf.micro.precision,
        train_micro_recall: prf.micro.recall,
        train_micro_f1: prf.micro.f1,
      };
    },
    state: () => ({ yTrue, yPred, top5Hits }),
    loadState(s) {
      const st = s as { yTrue: number[]; yPred: number[]; top5Hits: number };
      yTrue = st.yTrue;
      yPred = st.yPred;
      top5Hits = st.top5Hits;
    },
  };
}
