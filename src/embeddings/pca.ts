/**
 * PCA by power iteration with deflation, on centred rows, without forming the covariance
 * (each iteration is two passes over `X`: `v ← Xᵀ(X v)`). Pure; seeded; the sign of each
 * component is fixed so that its largest-magnitude loading is positive.
 */
import { Rng } from "../rng";

/** Options for {@link pcaProject}. */
export interface PcaOptions {
  /** Components to keep. Defaults to 2. */
  components?: number;
  /** Power iterations per component. Defaults to 200. */
  iterations?: number;
  /** Stop a component when its direction moves less than this (1 − |cos|). Defaults to 1e-10. */
  tolerance?: number;
  /** Seed of the start vectors. Defaults to 0. */
  seed?: number;
}

/** What {@link pcaProject} returns. */
export interface PcaResult {
  /** `[n, components]` row-major scores. */
  projected: Float32Array;
  /** `[components, dim]` unit principal axes. */
  axes: Float64Array;
  /** The variance along each axis. */
  variance: number[];
  /** Each axis' share of the total variance. */
  explained: number[];
  /** The column means that were subtracted. */
  mean: Float64Array;
}

/**
 * Projects `x` (`[n, dim]` row-major) onto its top principal components.
 * @example const { projected, explained } = pcaProject(vectors, dim, { components: 2 });
 */
export function pcaProject(x: ArrayLike<number>, dim: number, opts: PcaOptions = {}): PcaResult {
  const { components = 2, iterations = 200, tolerance = 1e-10, seed = 0 } = opts;
  if (!Number.isInteger(dim) || dim < 1 || x.length % dim !== 0) throw new Error(`pcaProject: length ${x.length} is not a multiple of dim ${dim}`);
  const n = x.length / dim;
  if (n < 2) throw new Error(`pcaProject: need at least 2 rows, got ${n}`);
  if (!Number.isInteger(components) || components < 1 || components > dim) throw new Error(`pcaProject: components must be in 1..${dim}, got ${components}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  const c = new Float64Array(n * dim);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j]! - mean[j]!;
      c[i * dim + j] = v;
      total += v * v;
    }
  }
  total /= n - 1;
  const rng = Rng.derive(seed, "pca");
  const axes = new Float64Array(components * dim);
  const variance: number[] = [];
  const xv = new Float64Array(n);
  for (let k = 0; k < components; k++) {
    let v = new Float64Array(dim);
    let n0 = 0;
    for (let j = 0; j < dim; j++) {
      v[j] = rng.normal();
      n0 += v[j]! * v[j]!;
    }
    for (let j = 0; j < dim; j++) v[j]! /= Math.sqrt(n0);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      // deflate: keep v orthogonal to the axes found so far
      for (let p = 0; p < k; p++) {
        let d = 0;
        for (let j = 0; j < dim; j++) d += v[j]! * axes[p * dim + j]!;
        for (let j = 0; j < dim; j++) v[j]! -= d * axes[p * dim + j]!;
      }
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += c[i * dim + j]! * v[j]!;
        xv[i] = s;
      }
      const w = new Float64Array(dim);
      for (let i = 0; i < n; i++) {
        const s = xv[i]!;
        if (s === 0) continue;
        for (let j = 0; j < dim; j++) w[j]! += c[i * dim + j]! * s;
      }
      for (let p = 0; p < k; p++) {
        let d = 0;
        for (let j = 0; j < dim; j++) d += w[j]! * axes[p * dim + j]!;
        for (let j = 0; j < dim; j++) w[j]! -= d * axes[p * dim + j]!;
      }
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += w[j]! * w[j]!;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      let cos = 0;
      for (let j = 0; j < dim; j++) {
        w[j]! /= norm;
        cos += w[j]! * v[j]!;
      }
      lambda = norm / (n - 1);
      v = w;
      if (1 - Math.abs(cos) < tolerance) break;
    }
    let big = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(v[j]!) > Math.abs(big)) big = v[j]!;
    const sign = big < 0 ? -1 : 1;
    for (let j = 0; j < dim; j++) axes[k * dim + j] = sign * v[j]!;
    variance.push(lambda);
  }
  const projected = new Float32Array(n * components);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < components; k++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += c[i * dim + j]! * axes[k * dim + j]!;
      projected[i * components + k] = s;
    }
  }
  return {
    projected,
    axes,
    variance,
    explained: variance.map((v) => (total > 0 ? v / total : 0)),
    mean,
  };
}
