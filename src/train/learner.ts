/**
 * A small event-driven training loop in the manner of fastai's Learner. Each stage runs
 * `before_x → x → after_x`; callbacks are plain objects that define only the events they need
 * (async or not); a callback stops training by throwing {@link CancelFitError} (or skips the
 * rest of an epoch with {@link CancelEpochError}). Batch order, dropout masks and augmentation are
 * functions of (seed, epoch, position), so a run restored from a checkpoint continues exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../rng";
import { DivergenceGuard, finiteStep, finiteWeights, NonFiniteOutputError, type NonFiniteStep } from "./divergence";
import { type AdamW, clipByGlobalNorm, GradientAccumulator, type NamedParam } from "./optimizer";

/** One batch: model inputs, integer class labels, and the dataset rows it holds. */
export interface Batch {
  inputs: tf.Tensor[];
  labels: tf.Tensor;
  indices: Int32Array;
}

/** Where batches come from: `makeBatch(rows, epoch)` (augmentation may key on epoch and row). */
export interface BatchSource {
  /** Number of training rows. */
  size: number;
  makeBatch(rows: Int32Array, epoch: number): Batch | Promise<Batch>;
  /** Told, at the start of each epoch (or of the rest of it, after a resume), the batches to come in order, so it can work ahead. Optional. */
  plan?(epoch: number, batches: Int32Array[]): void;
}

/** What a forward pass returns: the scalar loss and any tensors callbacks may read (disposed after the batch). */
export interface ForwardResult {
  loss: tf.Scalar;
  outputs?: Record<string, tf.Tensor>;
}

/** The loop's events. */
export type LearnerEvent =
  | "beforeFit"
  | "afterFit"
  | "beforeEpoch"
  | "afterEpoch"
  | "beforeBatch"
  | "afterBatch"
  | "beforeStep"
  | "afterStep"
  | "beforeValidate"
  | "afterValidate";

/** A callback: any subset of the events, plus optional state for checkpoints. Lower `order` runs first. */
export type Callback = { [E in LearnerEvent]?: (learner: Learner) => void | Promise<void> } & {
  /** Name under which `state`/`loadState` are saved. Defaults to none (not saved). */
  name?: string;
  /** Run order; lower first. Defaults to 0. */
  order?: number;
  /** JSON-serialisable state to put in checkpoints. */
  state?: () => unknown;
  /** Restores what `state` returned. */
  loadState?: (s: unknown) => void;
};

/** Thrown by a callback to stop training (after `afterFit` runs). */
export class CancelFitError extends Error {
  constructor(reason = "cancelled") {
    super(reason);
    this.name = "CancelFitError";
  }
}

/** Thrown by a callback to end the current epoch early (validation and `afterEpoch` still run). */
export class CancelEpochError extends Error {
  constructor(reason = "epoch cancelled") {
    super(reason);
    this.name = "CancelEpochError";
  }
}

/** Options for {@link Learner}. */
export interface LearnerOptions {
  /** Trainable parameters (gradients are taken for these). Required. */
  params: NamedParam[];
  /** Every tensor that makes up the model state (trainable and not: BN statistics, head scales), by stable name; checkpoints save these. Defaults to `params`. */
  stateVariables?: () => NamedParam[];
  /** The forward pass on a batch, computing the loss. Required. */
  forward: (batch: Batch, learner: Learner) => ForwardResult;
  /** Training data. Required. */
  data: BatchSource;
  /** The optimiser. Required. */
  optimizer: AdamW;
  /** Rows per micro-batch. Defaults to 32. */
  batchSize?: number;
  /** Epochs to train. Defaults to 1. */
  epochs?: number;
  /** Stop after this many optimiser steps (0 = no limit). Defaults to 0. */
  maxSteps?: number;
  /** Micro-batches per optimiser step. Defaults to 1. */
  gradientAccumulationSteps?: number;
  /** Clip gradients to this global norm (0 = off). Defaults to 0. */
  maxGradNorm?: number;
  /** A step whose loss or gradient norm is NaN or ±Inf is skipped; after this many such steps fit throws `DivergedError` (0 = skip them and go on). Defaults to 1. */
  maxNonfiniteSteps?: number;
  /** LR multiplier per optimiser step. Defaults to constant 1. */
  schedule?: (step: number) => number;
  /** Drop the last incomplete batch of each epoch. Defaults to true. */
  dropLast?: boolean;
  /** Seed of the batch order. Defaults to 0. */
  seed?: number;
  /** Computes validation metrics (must not change training state). Defaults to none. */
  validate?: (learner: Learner) => Promise<Record<string, number>>;
  /** Callbacks. Defaults to none. */
  callbacks?: Callback[];
}

/** The learner's position and counters, as saved in a checkpoint. */
export interface LearnerPosition {
  epoch: number;
  /** The next micro-batch index within `epoch`. */
  batchInEpoch: number;
  /** Optimiser steps taken. */
  step: number;
  /** Micro-batches processed (dropout masks key on this). */
  microStep: number;
}

/** Batches in an epoch of `rows` rows: the last partial batch dropped unless `dropLast` is false. */
export function batchesPerEpoch(rows: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}

/**
 * Optimizer steps a run will take: ⌈batches per epoch / accumulation⌉ per epoch (a partial accumulation
 * is flushed at each epoch's end), times the epochs, capped by `maxSteps` when it is > 0.
 * @example plannedSteps({ rows: 100, batchSize: 32, accumulation: 2, epochs: 3, maxSteps: 0 }) // 6
 */
export function plannedSteps(o: { rows: number; batchSize: number; accumulation: number; epochs: number; maxSteps: number; dropLast?: boolean }): number {
  const all = Math.ceil(batchesPerEpoch(o.rows, o.batchSize, o.dropLast ?? true) / o.accumulation) * o.epochs;
  return o.maxSteps > 0 ? Math.min(o.maxSteps, all) : all;
}

/** The training loop. */
export class Learner {
  readonly params: NamedParam[];
  readonly opts: LearnerOptions;
  readonly optimizer: AdamW;
  readonly batchSize: number;
  readonly epochs: number;
  readonly maxSteps: number;
  readonly accumulation: number;
  readonly maxGradNorm: number;
  readonly seed: number;
  callbacks: Callback[];
  /** Current position. */
  epoch = 0;
  batchInEpoch = 0;
  step = 0;
  microStep = 0;
  /** Batches in the current epoch. */
  batchesPerEpoch = 0;
  /** Set while the current batch ended with an optimiser step. */
  stepped = false;
  /** True between the last batch of an epoch and the next epoch's start. */
  epochDone = false;
  /** The current batch (during batch events). */
  batch: Batch | null = null;
  /** The last micro-batch loss. */
  loss = Number.NaN;
  /** The forward outputs of the current batch (during afterBatch). */
  outputs: Record<string, tf.Tensor> = {};
  /** Global gradient norm before clipping at the last step. */
  gradNorm = 0;
  /** LR multiplier at the last step. */
  lrFactor = 1;
  /** The last validation metrics. */
  metrics: Record<string, number> = {};
  /** Why training stopped ("" while running or when all epochs ran). */
  stopReason = "";
  /** Counts skipped non-finite steps (see `maxNonfiniteSteps`). */
  readonly divergence: DivergenceGuard;
  private accum = new GradientAccumulator();
  /** The first non-finite micro-batch loss of the pending accumulation, or null. */
  private badLoss: number | null = null;

  constructor(opts: LearnerOptions) {
    const { batchSize = 32, epochs = 1, maxSteps = 0, gradientAccumulationSteps = 1, maxGradNorm = 0, maxNonfiniteSteps = 1, seed = 0, callbacks = [] } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(gradientAccumulationSteps) || gradientAccumulationSteps < 1) throw new Error(`gradientAccumulationSteps must be a positive integer, got ${gradientAccumulationSteps}`);
    this.opts = opts;
    this.params = opts.params;
    this.optimizer = opts.optimizer;
    this.batchSize = batchSize;
    this.epochs = epochs;
    this.maxSteps = maxSteps;
    this.accumulation = gradientAccumulationSteps;
    this.maxGradNorm = maxGradNorm;
    this.seed = seed;
    this.divergence = new DivergenceGuard(maxNonfiniteSteps);
    this.callbacks = [...callbacks].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  }

  /** Optimizer steps in the whole run (see {@link plannedSteps}). */
  get totalSteps(): number {
    return plannedSteps({ rows: this.opts.data.size, batchSize: this.batchSize, accumulation: this.accumulation, epochs: this.epochs, maxSteps: this.maxSteps, dropLast: this.opts.dropLast !== false });
  }

  /** All model state variables (for checkpoints and hashing). */
  stateVariables(): NamedParam[] {
    return this.opts.stateVariables ? this.opts.stateVariables() : this.params;
  }

  /** The position a checkpoint written now would resume at. */
  position(): LearnerPosition {
    if (this.epochDone) return { epoch: this.epoch + 1, batchInEpoch: 0, step: this.step, microStep: this.microStep };
    return { epoch: this.epoch, batchInEpoch: this.batchInEpoch, step: this.step, microStep: this.microStep };
  }

  /** Restores a position (from a checkpoint). */
  setPosition(p: LearnerPosition): void {
    this.epoch = p.epoch;
    this.batchInEpoch = p.batchInEpoch;
    this.step = p.step;
    this.microStep = p.microStep;
    this.epochDone = false;
  }

  /** The row order of an epoch: a seeded permutation keyed on (seed, epoch). */
  epochOrder(epoch: number): Int32Array {
    return Rng.derive(this.seed, "batch-order", epoch).permutation(this.opts.data.size);
  }

  /** Runs the callbacks' handlers for an event, in order. */
  async event(name: LearnerEvent): Promise<void> {
    for (const cb of this.callbacks) {
      const f = cb[name];
      if (f) await f.call(cb, this);
    }
  }

  /** Adds a callback (kept in order). */
  addCallback(cb: Callback): void {
    this.callbacks.push(cb);
    this.callbacks.sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  }

  /** The learning rate of the next step: the largest base LR of the optimiser × the schedule's factor. */
  currentLr(factor = this.lrFactor): number {
    return Math.max(0, ...this.optimizer.lrs) * factor;
  }

  private nonFinite(loss: number, gradNorm: number): NonFiniteStep {
    return { step: this.step + 1, epoch: this.epoch, loss, gradNorm, lr: this.currentLr() };
  }

  /** Throws `DivergedError` when any model weight is NaN or ±Inf (checked before validations and checkpoints, so no broken checkpoint is written). */
  assertFiniteWeights(): void {
    if (!finiteWeights(this.stateVariables())) throw this.divergence.weights({ ...this.nonFinite(this.loss, this.gradNorm), step: this.step });
  }

  /** Runs validation now (fires before/afterValidate). */
  async runValidate(): Promise<Record<string, number>> {
    if (!this.opts.validate) return {};
    this.assertFiniteWeights();
    await this.event("beforeValidate");
    try {
      this.metrics = await this.opts.validate(this);
    } catch (e) {
      if (e instanceof NonFiniteOutputError) throw this.divergence.weights({ ...this.nonFinite(this.loss, this.gradNorm), step: this.step }, "outputs");
      throw e;
    }
    await this.event("afterValidate");
    return this.metrics;
  }

  private stepLimitReached(): boolean {
    return this.maxSteps > 0 && this.step >= this.maxSteps;
  }

  /** Trains from the current position to the end (or until a callback cancels). */
  async fit(): Promise<void> {
    this.stopReason = "";
    await this.event("beforeFit");
    try {
      while (this.epoch < this.epochs && !this.stepLimitReached()) {
        await this.oneEpoch();
        if (this.stopReason) break;
        this.epoch++;
        this.batchInEpoch = 0;
        this.epochDone = false;
      }
      if (!this.stopReason && this.stepLimitReached()) this.stopReason = `max_iters (${this.maxSteps}) reached`;
    } catch (e) {
      if (!(e instanceof CancelFitError)) throw e;
      this.stopReason = e.message;
    } finally {
      this.accum.reset();
      this.badLoss = null;
    }
    await this.event("afterFit");
  }

  private async oneEpoch(): Promise<void> {
    const n = this.opts.data.size;
    this.batchesPerEpoch = batchesPerEpoch(n, this.batchSize, this.opts.dropLast !== false);
    if (this.batchesPerEpoch === 0) throw new Error(`batchSize ${this.batchSize} exceeds the ${n} training rows (lower batch_size)`);
    const order = this.epochOrder(this.epoch);
    const rowsOf = (b: number) => order.slice(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
    this.opts.data.plan?.(this.epoch, Array.from({ length: this.batchesPerEpoch - this.batchInEpoch }, (_, i) => rowsOf(this.batchInEpoch + i)));
    await this.event("beforeEpoch");
    try {
      for (let b = this.batchInEpoch; b < this.batchesPerEpoch; b++) {
        await this.oneBatch(rowsOf(b), b === this.batchesPerEpoch - 1);
        if (this.stepLimitReached()) {
          this.stopReason = `max_iters (${this.maxSteps}) reached`;
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof CancelEpochError)) throw e;
    }
    if (this.accum.count > 0) await this.optimizerStep(); // flush a partial accumulation at the epoch end
    this.epochDone = !this.stopReason;
    await this.runValidate();
    await this.event("afterEpoch");
  }

  private async oneBatch(rows: Int32Array, lastInEpoch: boolean): Promise<void> {
    this.stepped = false;
    this.batch = await this.opts.data.makeBatch(rows, this.epoch);
    try {
      await this.event("beforeBatch");
      let kept: tf.Tensor[] = [];
      const vars = this.params.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => {
        const r = this.opts.forward(this.batch!, this);
        this.outputs = r.outputs ?? {};
        kept = Object.values(this.outputs).map((t) => tf.keep(t));
        return r.loss;
      }, vars);
      this.loss = value.dataSync()[0]!;
      value.dispose();
      if (!Number.isFinite(this.loss) && this.badLoss === null) this.badLoss = this.loss;
      const ordered = this.params.map((p) => {
        const g = grads[p.variable.name];
        return g ?? tf.zerosLike(p.variable);
      });
      this.accum.add(ordered);
      tf.dispose(ordered);
      tf.dispose(Object.values(grads).filter((g) => !ordered.includes(g)));
      this.microStep++;
      this.batchInEpoch++;
      try {
        if (this.accum.count >= this.accumulation || lastInEpoch) await this.optimizerStep();
        await this.event("afterBatch");
      } finally {
        tf.dispose(kept);
        this.outputs = {};
      }
    } finally {
      tf.dispose([...this.batch.inputs, this.batch.labels]);
      this.batch = null;
    }
  }

  private async optimizerStep(): Promise<void> {
    await this.event("beforeStep");
    const mean = this.accum.take();
    const { grads, norm } = clipByGlobalNorm(mean, this.maxGradNorm);
    tf.dispose(mean);
    this.gradNorm = norm;
    this.lrFactor = this.opts.schedule ? this.opts.schedule(this.step) : 1;
    const badLoss = this.badLoss;
    this.badLoss = null;
    if (badLoss !== null || !finiteStep(this.loss, norm)) {
      // skipped before it touches the weights or the optimiser state; throws once the limit is reached
      tf.dispose(grads);
      this.divergence.skip(this.nonFinite(badLoss ?? this.loss, norm));
      return;
    }
    this.optimizer.step(grads, this.lrFactor);
    tf.dispose(grads);
    this.step++;
    this.stepped = true;
    await this.event("afterStep");
  }
}

/** Factory for {@link Learner}. */
export function learner(opts: LearnerOptions): Learner {
  return new Learner(opts);
}
