/** Per-class loss weights from class counts: pure, no tfjs. */

/** The class-weight strategies. */
export const CLASS_WEIGHT_STRATEGIES = Object.freeze(["none", "inverse", "inverse_sqrt", "effective_number", "power"] as const);
/** How to turn class counts into weights. */
export type ClassWeightStrategy = (typeof CLASS_WEIGHT_STRATEGIES)[number];

/** Options for {@link classWeights}. */
export interface ClassWeightOptions {
  /** β of the effective-number weighting (1−β)/(1−β^n). Defaults to 0.999. */
  beta?: number;
  /** α of partial weighting 1/n^α (0 = none, 1 = inverse). Defaults to 0.5. */
  alpha?: number;
  /** Normalisation: `classes` makes the weights sum to the number of classes, `samples` makes the mean weight per sample 1, `none` leaves them. Defaults to "classes". */
  normalize?: "classes" | "samples" | "none";
}

/**
 * Per-class weights from per-class counts.
 * - `inverse`: 1/n; `inverse_sqrt`: 1/√n; `power`: 1/n^α (partial weighting);
 * - `effective_number`: (1−β)/(1−β^n) (Cui et al. 2019); `none`: 1.
 * Classes with count 0 get weight 0 (they never occur as a target).
 * @example classWeights([10, 100], "inverse_sqrt") // → weights summing to 2
 */
export function classWeights(counts: ArrayLike<number>, strategy: ClassWeightStrategy, opts: ClassWeightOptions = {}): Float64Array {
  const { beta = 0.999, alpha = 0.5, normalize = "classes" } = opts;
  if (!(CLASS_WEIGHT_STRATEGIES as readonly string[]).includes(strategy)) throw new Error(`unknown class weight strategy: ${strategy} (expected ${CLASS_WEIGHT_STRATEGIES.join("|")})`);
  if (strategy === "effective_number" && !(beta >= 0 && beta < 1)) throw new Error(`classWeights: beta must be in [0, 1), got ${beta}`);
  const w = new Float64Array(counts.length);
  for (let c = 0; c < counts.length; c++) {
    const n = counts[c]!;
    if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`classWeights: counts[${c}] must be a non-negative number, got ${n}`);
    if (n === 0) continue;
    switch (strategy) {
      case "none":
        w[c] = 1;
        break;
      case "inverse":
        w[c] = 1 / n;
        break;
      case "inverse_sqrt":
        w[c] = 1 / Math.sqrt(n);
        break;
      case "power":
        w[c] = n ** -alpha;
        break;
      case "effective_number":
        w[c] = (1 - beta) / (1 - beta ** n);
        break;
    }
  }
  let scale = 1;
  if (normalize === "classes") {
    let s = 0;
    let k = 0;
    for (let c = 0; c < w.length; c++) {
      if (counts[c]! > 0) {
        s += w[c]!;
        k++;
      }
    }
    scale = s > 0 ? k / s : 1;
  } else if (normalize === "samples") {
    let s = 0;
    let n = 0;
    for (let c = 0; c < w.length; c++) {
      s += w[c]! * counts[c]!;
      n += counts[c]!;
    }
    scale = s > 0 ? n / s : 1;
  } else if (normalize !== "none") {
    throw new Error(`unknown normalize: ${normalize} (expected classes|samples|none)`);
  }
  for (let c = 0; c < w.length; c++) w[c]! *= scale;
  return w;
}
