/**
 * Diverging runs: a non-finite (NaN or ±Inf) loss or gradient norm is caught before the optimiser
 * step, the step is skipped, and after `train.max_nonfinite_steps` such steps the run stops with a
 * {@link DivergedError} (summary status `diverged`, `matchlab train` exits {@link DIVERGED_EXIT_CODE}).
 * Weights that became non-finite (a finite but huge update) are caught before a validation or a
 * checkpoint, so the last good checkpoint is never overwritten by a broken one.
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedParam } from "./optimizer";

/** The exit status of `matchlab train` when its run diverged (distinct from 1, an error, and 75, requeue). */
export const DIVERGED_EXIT_CODE = 3;

/** What was seen at a non-finite step. */
export interface NonFiniteStep {
  /** The optimiser step that was about to be taken (1-based: the first step is 1). */
  step: number;
  /** The epoch (0-based, as the learner counts). */
  epoch: number;
  /** The loss of the step's micro-batches (the first non-finite one, else the last). */
  loss: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate the step would have used (base × schedule factor). */
  lr: number;
}

/** The details of a diverged run. */
export interface DivergedInfo extends NonFiniteStep {
  /** Non-finite steps skipped so far (this one included). */
  skipped: number;
  /** The configured limit (`train.max_nonfinite_steps`). */
  limit: number;
  /** What diverged: the loss or gradient norm of a step, the weights themselves, or the model's outputs on the validation rows. */
  what: "step" | "weights" | "outputs";
}

const num = (x: number) => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e5 || a < 1e-4) ? x.toExponential(3).replace(/\.?0+e/, "e") : String(Number(x.toPrecision(6)));
};

/** Thrown out of `Learner.fit` when a run diverges; the message is one line naming the step, the loss and the learning rate. */
export class DivergedError extends Error {
  constructor(readonly info: DivergedInfo) {
    const where = `step ${info.step} (epoch ${info.epoch + 1})`;
    const seen = info.what === "weights" ? `the weights became non-finite after ${where}` : info.what === "outputs" ? `the model's validation outputs became non-finite after ${where}` : `non-finite loss or gradient at ${where}`;
    super(`diverged: ${seen}: loss ${num(info.loss)}, grad norm ${num(info.gradNorm)}, lr ${num(info.lr)}; ${info.skipped} non-finite step(s) skipped (train.max_nonfinite_steps: ${info.limit}); lower optim.lr or set train.max_grad_norm`);
    this.name = "DivergedError";
  }
}

/** Thrown by a task's validation when the model's outputs (embeddings, probabilities) hold NaN or ±Inf; the Learner turns it into a {@link DivergedError}. */
export class NonFiniteOutputError extends Error {
  constructor(what: string) {
    super(`${what} hold non-finite values (NaN or ±Inf): the model has diverged`);
    this.name = "NonFiniteOutputError";
  }
}

/** Throws {@link NonFiniteOutputError} naming `what` when `values` holds a NaN or ±Inf. */
export function assertFiniteOutputs(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) throw new NonFiniteOutputError(what);
}

/** Whether a step may be applied: its loss and gradient norm are both finite. */
export function finiteStep(loss: number, gradNorm: number): boolean {
  return Number.isFinite(loss) && Number.isFinite(gradNorm);
}

/**
 * Counts skipped non-finite steps and says when the run has diverged.
 * @example const g = new DivergenceGuard(2); g.skip(s) // 1; g.skip(s) throws DivergedError
 */
export class DivergenceGuard {
  /** Non-finite steps skipped so far. */
  skipped = 0;
  /**
   * @param limit Non-finite steps after which the run stops (≥ 1); 0 = skip them and never stop.
   */
  constructor(readonly limit = 1) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`max non-finite steps must be an integer >= 0, got ${limit}`);
  }

  /** Records a skipped step; throws {@link DivergedError} once `limit` steps were skipped. Returns the count. */
  skip(s: NonFiniteStep): number {
    this.skipped++;
    if (this.limit > 0 && this.skipped >= this.limit) throw new DivergedError({ ...s, skipped: this.skipped, limit: this.limit, what: "step" });
    return this.skipped;
  }

  /** The error for weights (or outputs) found non-finite after `s` (always fatal: there is no step to skip). */
  weights(s: NonFiniteStep, what: "weights" | "outputs" = "weights"): DivergedError {
    return new DivergedError({ ...s, skipped: this.skipped, limit: this.limit, what });
  }
}

/** Whether every float value of `vars` is finite (one reduction, one read back). */
export function finiteWeights(vars: readonly NamedParam[]): boolean {
  const floats = vars.filter((v) => v.variable.dtype === "float32");
  if (floats.length === 0) return true;
  // x·0 is 0 for finite x and NaN for NaN or ±Inf: the sum is 0 exactly when all are finite
  const s = tf.tidy(() => tf.addN(floats.map((v) => v.variable.mul(0).sum())).dataSync()[0]!);
  return s === 0;
}
