/**
 * A class-balanced sampler: draws a class with probability ∝ n_c^α, then an item uniformly within
 * it. α = 0 samples classes uniformly (every class equally often), α = 1 reproduces the natural
 * distribution (every item equally often), values between interpolate ("square-root sampling"
 * at 0.5). Pure over label arrays, seeded, with a saveable state; `epoch(e)` is a pure function of
 * (seed, e), so a training run resumed mid-epoch sees exactly the same rows.
 */
import { Rng } from "../rng";
import type { Batch, BatchSource } from "./learner";
import type { ClassValue } from "../metrics/class_counts";

/** How training rows are drawn: each row once per epoch, or classes ∝ n_c^α (config `data.sampling`). */
export const SAMPLINGS = Object.freeze(["natural", "class_balanced"] as const);
/** A sampling name. */
export type Sampling = (typeof SAMPLINGS)[number];

/** Options for {@link ClassBalancedSampler}. */
export interface ClassBalancedSamplerOptions {
  /** Power α: class c is drawn with probability ∝ n_c^α (0 = uniform over classes, 1 = natural). Defaults to 0. */
  alpha?: number;
  /** Seed of every draw. Defaults to 0. */
  seed?: number;
  /** Draws per epoch. Defaults to the number of labels. */
  numSamples?: number;
}

/** The sampler's saveable state (for checkpoints). */
export interface ClassBalancedSamplerState {
  /** The stream RNG's state. */
  rng: number;
  /** Draws taken from the stream so far. */
  drawn: number;
}

/** Draws item indices so that classes appear with probability ∝ n_c^α. */
export class ClassBalancedSampler {
  /** The power α. */
  readonly alpha: number;
  /** The seed. */
  readonly seed: number;
  /** Draws per epoch. */
  readonly numSamples: number;
  /** The distinct classes, in first-seen order. */
  readonly classes: ClassValue[];
  /** Probability of drawing each class (same order as `classes`). */
  readonly classProbs: Float64Array;
  private readonly members: Int32Array[];
  private readonly cdf: Float64Array;
  private rng: Rng;
  private drawn = 0;

  constructor(labels: ArrayLike<ClassValue>, opts: ClassBalancedSamplerOptions = {}) {
    const { alpha = 0, seed = 0, numSamples = labels.length } = opts;
    if (labels.length === 0) throw new Error("classBalancedSampler: no labels (expected at least one)");
    if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new Error(`classBalancedSampler: alpha must be a finite number >= 0, got ${alpha}`);
    if (!Number.isInteger(numSamples) || numSamples < 1) throw new Error(`classBalancedSampler: numSamples must be a positive integer, got ${numSamples}`);
    const index = new Map<ClassValue, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (v === undefined || v === null) throw new Error(`classBalancedSampler: label at index ${i} is ${String(v)}`);
      const list = index.get(v);
      if (list) list.push(i);
      else index.set(v, [i]);
    }
    this.alpha = alpha;
    this.seed = seed;
    this.numSamples = numSamples;
    this.classes = [...index.keys()];
    this.members = [...index.values()].map((l) => Int32Array.from(l));
    const w = this.members.map((m) => m.length ** alpha);
    const total = w.reduce((a, b) => a + b, 0);
    this.classProbs = Float64Array.from(w, (x) => x / total);
    this.cdf = new Float64Array(w.length);
    let acc = 0;
    this.classProbs.forEach((p, c) => {
      acc += p;
      this.cdf[c] = acc;
    });
    this.cdf[w.length - 1] = 1;
    this.rng = Rng.derive(seed, "class-balanced-stream");
  }

  /** The probability that one draw returns item `i`. */
  itemProbability(i: number): number {
    for (let c = 0; c < this.members.length; c++) {
      if (this.members[c]!.includes(i)) return this.classProbs[c]! / this.members[c]!.length;
    }
    throw new Error(`itemProbability: item ${i} is not among the sampler's ${this.cdf.length} classes' members`);
  }

  private draw(r: Rng): number {
    const u = r.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    const m = this.members[lo]!;
    return m[r.int(m.length)]!;
  }

  /** The next item from the sampler's stream (advances its state). */
  next(): number {
    this.drawn++;
    return this.draw(this.rng);
  }

  /** The next `n` items from the stream. */
  take(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new Error(`take: n must be a non-negative integer, got ${n}`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  /** The `numSamples` items of epoch `e`: a pure function of (seed, e), independent of the stream. */
  epoch(e: number): Int32Array {
    if (!Number.isInteger(e) || e < 0) throw new Error(`epoch: e must be a non-negative integer, got ${e}`);
    const r = Rng.derive(this.seed, "class-balanced-epoch", e);
    const out = new Int32Array(this.numSamples);
    for (let i = 0; i < this.numSamples; i++) out[i] = this.draw(r);
    return out;
  }

  /** The stream's state, to save in a checkpoint. */
  state(): ClassBalancedSamplerState {
    return { rng: this.rng.state, drawn: this.drawn };
  }

  /** Restores a state from {@link state}; the stream then continues exactly where it was. */
  loadState(s: ClassBalancedSamplerState): void {
    if (!s || typeof s.rng !== "number" || typeof s.drawn !== "number") throw new Error(`loadState: expected {rng: number, drawn: number}, got ${JSON.stringify(s)}`);
    this.rng.state = s.rng;
    this.drawn = s.drawn;
  }
}

/**
 * Factory for {@link ClassBalancedSampler}.
 * @example const s = classBalancedSampler(trainLabels, { alpha: 0.5, seed: 1 }); const rows = s.epoch(0);
 */
export function classBalancedSampler(labels: ArrayLike<ClassValue>, opts: ClassBalancedSamplerOptions = {}): ClassBalancedSampler {
  return new ClassBalancedSampler(labels, opts);
}

/**
 * Wraps a Learner batch source so that each epoch's rows come from the sampler: the Learner still
 * shuffles positions 0..numSamples-1, and position p of epoch e is `sampler.epoch(e)[p]` of the
 * wrapped source. Deterministic in (seed, epoch), so resume stays exact.
 */
export function balancedBatchSource(source: BatchSource, sampler: ClassBalancedSampler): BatchSource {
  let cached: { epoch: number; rows: Int32Array } | null = null;
  const drawn = (epoch: number) => {
    if (!cached || cached.epoch !== epoch) cached = { epoch, rows: sampler.epoch(epoch) };
    return cached.rows;
  };
  return {
    size: sampler.numSamples,
    makeBatch(rows: Int32Array, epoch: number): Batch | Promise<Batch> {
      const d = drawn(epoch);
      return source.makeBatch(
        rows.map((p) => d[p]!),
        epoch,
      );
    },
    plan(epoch, batches) {
      const d = drawn(epoch);
      source.plan?.(
        epoch,
        batches.map((rows) => rows.map((p) => d[p]!)),
      );
    },
  };
}
