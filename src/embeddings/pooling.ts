/**
 * Pooling of token (or patch / spatial) states into one vector per item, and row L2
 * normalisation. Pure functions over typed arrays, shared by every encoder source.
 */

/** How token / patch / spatial states become one vector: the first token, the masked mean, or the masked max. */
export type Pooling = "cls" | "mean" | "max";

/** The valid poolings, in a frozen list. */
export const POOLINGS: readonly Pooling[] = Object.freeze(["cls", "mean", "max"]);

/** Parses a pooling name, throwing an error that lists the valid ones. */
export function parsePooling(p: string, where = "pooling"): Pooling {
  if ((POOLINGS as readonly string[]).includes(p)) return p as Pooling;
  throw new Error(`unknown ${where}: ${p} (expected ${POOLINGS.join("|")})`);
}

/** A mask row-major [n, s]: nonzero keeps a token. Any numeric array type (BigInt64Array included). */
export type PoolingMask = ArrayLike<number | bigint>;

/**
 * Pools states `[n, s, h]` (row-major) to `[n, h]` with an optional mask `[n, s]`.
 * `cls` takes token 0; `mean` averages kept tokens; `max` takes the max over kept tokens.
 * A row with no kept token pools to zeros.
 * @example poolTokenStates(hidden, [2, 7, 8], attentionMask, "mean")
 */
export function poolTokenStates(states: ArrayLike<number>, dims: readonly [number, number, number], mask: PoolingMask | null, pooling: Pooling): Float32Array {
  const [n, s, h] = dims;
  if (states.length !== n * s * h) throw new Error(`poolTokenStates: states has ${states.length} values, expected ${n}×${s}×${h} = ${n * s * h}`);
  if (mask && mask.length !== n * s) throw new Error(`poolTokenStates: mask has ${mask.length} values, expected ${n}×${s} = ${n * s}`);
  const out = new Float32Array(n * h);
  const keep = (i: number, t: number) => !mask || Number(mask[i * s + t]) !== 0;
  for (let i = 0; i < n; i++) {
    const o = i * h;
    switch (pooling) {
      case "cls":
        for (let j = 0; j < h; j++) out[o + j] = states[i * s * h + j]!;
        break;
      case "mean": {
        let count = 0;
        for (let t = 0; t < s; t++) {
          if (!keep(i, t)) continue;
          count++;
          const base = (i * s + t) * h;
          for (let j = 0; j < h; j++) out[o + j]! += states[base + j]!;
        }
        if (count > 0) for (let j = 0; j < h; j++) out[o + j]! /= count;
        break;
      }
      case "max": {
        let any = false;
        for (let t = 0; t < s; t++) {
          if (!keep(i, t)) continue;
          const base = (i * s + t) * h;
          for (let j = 0; j < h; j++) {
            const v = states[base + j]!;
            if (!any || v > out[o + j]!) out[o + j] = v;
          }
          any = true;
        }
        break;
      }
      default:
        throw new Error(`unknown pooling: ${pooling as string} (expected cls|mean|max)`);
    }
  }
  return out;
}

/** L2-normalises each row of `x` ([n, dim]) in place and returns it; zero rows stay zero. */
export function normalizeEmbeddingRows(x: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || x.length % dim !== 0) throw new Error(`normalizeEmbeddingRows: length ${x.length} is not a multiple of dim ${dim}`);
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[o + j]! * x[o + j]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) x[o + j]! *= inv;
  }
  return x;
}
