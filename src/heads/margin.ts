/**
 * Margin schedules for the margin heads (ArcFace, sub-center ArcFace, CosFace): the margin ramps
 * linearly from `mStart` to `m` over the first `warmup` fraction of training, then stays at `m`
 * (the Shopee 1st place ramped ArcFace's margin up during training: easy at first, strict later).
 * Pure: the margin is a function of the optimizer step, so a resumed run sees the same margins.
 */

/** A margin schedule. */
export interface MarginSchedule {
  /** The final margin. Required. */
  m: number;
  /** The margin at step 0. Required (ignored when `warmup` is 0). */
  mStart: number;
  /** Fraction of the run's steps over which the margin ramps (0 = `m` throughout). Required. */
  warmup: number;
}

/**
 * The margin at optimizer step `step` of `totalSteps`.
 * @example marginAt({ m: 0.8, mStart: 0.2, warmup: 0.5 }, 25, 100) // 0.5
 */
export function marginAt(s: MarginSchedule, step: number, totalSteps: number): number {
  if (!(s.warmup > 0)) return s.m;
  const span = s.warmup * Math.max(1, totalSteps);
  const t = Math.min(1, Math.max(0, step / span));
  return s.mStart + (s.m - s.mStart) * t;
}

/** A head whose margin can be set between steps. */
export interface MarginHead {
  m: number;
}

/** Whether a head layer has a settable margin (ArcFace, sub-center ArcFace, CosFace). */
export function isMarginHead(h: unknown): h is MarginHead {
  return typeof h === "object" && h !== null && typeof (h as { m?: unknown }).m === "number";
}
