/**
 * Adam / AdamW with parameter groups (each its own learning rate and weight decay), global-norm
 * clipping and gradient accumulation. The optimiser state (step count, first and second moments)
 * is plain named tensors, so checkpoints save and restore it exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { adamStep } from "../backend/fused_ops";

/** A trainable parameter with a stable name (used to match parameter groups and checkpoint entries). */
export interface NamedParam {
  name: string;
  variable: tf.Variable;
}

/** One parameter group: parameters whose name matches `match` (a regular expression). */
export interface ParamGroupSpec {
  /** Regular expression tested against parameter names, e.g. "^img_". Required. */
  match: string;
  /** Learning rate of the group. Required. */
  lr: number;
  /** Weight decay of the group. Defaults to the optimiser's. */
  weightDecay?: number;
}

/** The optimiser kinds. */
export const OPTIMIZER_KINDS = Object.freeze(["adam", "adamw"] as const);
/** The optimiser kind: `adam` adds weight decay to the gradient (L2); `adamw` decays weights directly. */
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** Options for {@link AdamW}. */
export interface AdamWOptions {
  /** Defaults to "adamw". */
  kind?: OptimizerKind;
  /** Base learning rate (for parameters no group matches). Defaults to 1e-3. */
  lr?: number;
  /** Defaults to 0.9. */
  beta1?: number;
  /** Defaults to 0.999. */
  beta2?: number;
  /** Defaults to 1e-8. */
  epsilon?: number;
  /** Weight decay (not applied to 1-D parameters: biases, norms, scales). Defaults to 0.01 for adamw, 0 for adam. */
  weightDecay?: number;
  /** Parameter groups, first match wins. Defaults to none. */
  groups?: ParamGroupSpec[];
}

/** The optimiser's saved state: step count and moments, by parameter name. */
export interface OptimizerState {
  t: number;
  m: Record<string, tf.Tensor>;
  v: Record<string, tf.Tensor>;
}

/** Adam/AdamW over named parameters. */
export class AdamW {
  readonly kind: OptimizerKind;
  readonly params: NamedParam[];
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Per parameter: base LR and weight decay after group matching. */
  readonly lrs: number[];
  readonly decays: number[];
  /** Optimiser steps taken. */
  t = 0;
  private m: tf.Variable[];
  private v: tf.Variable[];

  constructor(params: NamedParam[], opts: AdamWOptions = {}) {
    const { kind = "adamw", lr = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, groups = [] } = opts;
    if (!OPTIMIZER_KINDS.includes(kind)) throw new Error(`unknown optimizer: ${kind as string} (expected ${OPTIMIZER_KINDS.join("|")})`);
    const weightDecay = opts.weightDecay ?? (kind === "adamw" ? 0.01 : 0);
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`optimizer: duplicate parameter name ${p.name}`);
      names.add(p.name);
    }
    this.kind = kind;
    this.params = params;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    const res = groups.map((g) => {
      try {
        return new RegExp(g.match);
      } catch {
        throw new Error(`optimizer: param group match ${JSON.stringify(g.match)} is not a valid regular expression`);
      }
    });
    this.lrs = [];
    this.decays = [];
    for (const p of params) {
      const gi = res.findIndex((re) => re.test(p.name));
      const g = gi >= 0 ? groups[gi]! : undefined;
      this.lrs.push(g ? g.lr : lr);
      const wd = g?.weightDecay ?? weightDecay;
      this.decays.push(p.variable.rank <= 1 ? 0 : wd);
    }
    // tf.variable copies its initial value; the zeros are temporaries, so build them in a tidy
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  /** Applies one update with the given gradients (aligned with `params`) and LR multiplier. */
  step(grads: tf.Tensor[], lrFactor = 1): void {
    if (grads.length !== this.params.length) throw new Error(`optimizer.step: ${grads.length} gradients for ${this.params.length} parameters`);
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const wd = this.decays[i]!;
        // one pass per parameter on wasm (the same float32 operations as the composite elsewhere)
        const [w, m, v] = adamStep(p.variable, grads[i]!, this.m[i]!, this.v[i]!, {
          beta1: this.beta1,
          beta2: this.beta2,
          bc1,
          bc2,
          epsilon: this.epsilon,
          lr: this.lrs[i]! * lrFactor,
          l2: this.kind === "adam" ? wd : 0,
          decay: this.kind === "adamw" ? wd : 0,
        });
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        p.variable.assign(w);
      });
    });
  }

  /** The state as named tensors (copies; the caller disposes them). */
  getState(): OptimizerState {
    const m: Record<string, tf.Tensor> = {};
    const v: Record<string, tf.Tensor> = {};
    this.params.forEach((p, i) => {
      m[p.name] = this.m[i]!.clone();
      v[p.name] = this.v[i]!.clone();
    });
    return { t: this.t, m, v };
  }

  /** Restores a saved state; every parameter must be present with the same shape. */
  setState(state: { t: number; m: Record<string, tf.Tensor>; v: Record<string, tf.Tensor> }): void {
    this.params.forEach((p, i) => {
      for (const [what, src, dst] of [["m", state.m, this.m], ["v", state.v, this.v]] as const) {
        const t = src[p.name];
        if (!t) throw new Error(`optimizer state has no ${what} for parameter ${p.name}`);
        if (t.shape.join(",") !== p.variable.shape.join(",")) throw new Error(`optimizer state ${what}[${p.name}] has shape [${t.shape}], expected [${p.variable.shape}]`);
        dst[i]!.assign(t);
      }
    });
    this.t = state.t;
  }

  /** Frees the moment variables. */
  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** Factory for {@link AdamW}. */
export function adamW(params: NamedParam[], opts: AdamWOptions = {}): AdamW {
  return new AdamW(params, opts);
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (as torch.nn.utils.clip_grad_norm_).
 * Returns new gradient tensors and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const norm = Math.sqrt(tf.tidy(() => tf.addN(grads.map((g) => g.square().sum())).dataSync()[0]!));
  if (!(maxNorm > 0) || norm <= maxNorm) return { grads: grads.map((g) => g.clone()), norm };
  const scale = maxNorm / (norm + 1e-6);
  return { grads: grads.map((g) => tf.tidy(() => g.mul(scale))), norm };
}

/** Sums gradients over micro-batches and hands back their mean. */
export class GradientAccumulator {
  private sums: tf.Tensor[] | null = null;
  /** Micro-batches added since the last `take`. */
  count = 0;

  /** Adds one micro-batch's gradients (they are not disposed). */
  add(grads: tf.Tensor[]): void {
    if (!this.sums) this.sums = grads.map((g) => g.clone());
    else {
      const old = this.sums;
      this.sums = old.map((s, i) => tf.add(s, grads[i]!));
      tf.dispose(old);
    }
    this.count++;
  }

  /** The mean gradients; resets the accumulator. The caller disposes the result. */
  take(): tf.Tensor[] {
    if (!this.sums) throw new Error("GradientAccumulator.take: nothing accumulated");
    const n = this.count;
    const out = n === 1 ? this.sums : this.sums.map((s) => tf.tidy(() => s.div(n)));
    if (n !== 1) tf.dispose(this.sums);
    this.sums = null;
    this.count = 0;
    return out;
  }

  /** Drops anything accumulated. */
  reset(): void {
    if (this.sums) tf.dispose(this.sums);
    this.sums = null;
    this.count = 0;
  }
}
