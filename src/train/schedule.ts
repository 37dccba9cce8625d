/** Learning-rate schedules as pure functions of the optimiser step: warmup, then cosine, linear, step or constant. */

/** The schedule kinds. */
export const SCHEDULE_KINDS = Object.freeze(["constant", "cosine", "linear", "step"] as const);
/** A schedule kind. */
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** Options for {@link lrSchedule}. */
export interface LrScheduleOptions {
  /** The shape after warmup. Defaults to "cosine". */
  kind?: ScheduleKind;
  /** Linear warmup steps from ~0 to 1. Defaults to 0. */
  warmupSteps?: number;
  /** Total optimiser steps (cosine/linear decay to `minFactor` at this step). Required for cosine and linear. */
  totalSteps?: number;
  /** The factor cosine/linear decay ends at. Defaults to 0. */
  minFactor?: number;
  /** Step schedule: multiply by `gamma` every `stepSize` steps after warmup. Defaults to 1000. */
  stepSize?: number;
  /** Step schedule's factor. Defaults to 0.1. */
  gamma?: number;
}

/**
 * A function step → LR multiplier in [0, 1] (step counts optimiser steps from 0).
 * @example const f = lrSchedule({ kind: "cosine", warmupSteps: 100, totalSteps: 1000 }); lr = base * f(step);
 */
export function lrSchedule(opts: LrScheduleOptions = {}): (step: number) => number {
  const { kind = "cosine", warmupSteps = 0, totalSteps, minFactor = 0, stepSize = 1000, gamma = 0.1 } = opts;
  if (!SCHEDULE_KINDS.includes(kind)) throw new Error(`unknown schedule: ${kind} (expected ${SCHEDULE_KINDS.join("|")})`);
  if ((kind === "cosine" || kind === "linear") && !(totalSteps && totalSteps > 0)) throw new Error(`schedule ${kind} needs totalSteps > 0`);
  if (!(warmupSteps >= 0)) throw new Error(`warmupSteps must be >= 0, got ${warmupSteps}`);
  return (step: number) => {
    if (step < warmupSteps) return (step + 1) / warmupSteps;
    const t = step - warmupSteps;
    switch (kind) {
      case "constant":
        return 1;
      case "step":
        return gamma ** Math.floor(t / stepSize);
      case "cosine": {
        const span = Math.max(1, totalSteps! - warmupSteps);
        const p = Math.min(1, t / span);
        return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p));
      }
      case "linear": {
        const span = Math.max(1, totalSteps! - warmupSteps);
        return minFactor + (1 - minFactor) * Math.max(0, 1 - t / span);
      }
    }
  };
}

/**
 * Rescales a learning rate tuned at `baseBatch` to `batchSize`: linearly (Goyal et al.) or by
 * the square root (often better for Adam).
 * @example scaleLrForBatch(1e-3, 64, { baseBatch: 256 }) // 2.5e-4
 */
export function scaleLrForBatch(lr: number, batchSize: number, opts: { baseBatch?: number; rule?: "linear" | "sqrt" } = {}): number {
  const { baseBatch = 256, rule = "linear" } = opts;
  if (!(batchSize > 0 && baseBatch > 0)) throw new Error(`scaleLrForBatch: batch sizes must be > 0, got ${batchSize} and ${baseBatch}`);
  const r = batchSize / baseBatch;
  if (rule === "linear") return lr * r;
  if (rule === "sqrt") return lr * Math.sqrt(r);
  throw new Error(`unknown rule: ${rule as string} (expected linear|sqrt)`);
}
