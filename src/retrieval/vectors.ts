/** Small helpers over row-major float32 matrices (n × dim) shared by the retrieval code. */

/** Checks that `data` holds whole rows of `dim` values and returns the row count. */
export function rowCount(data: ArrayLike<number>, dim: number, what = "vectors"): number {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${what}: dim must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0) throw new Error(`${what}: ${data.length} values is not a whole number of rows of dim ${dim}`);
  return data.length / dim;
}

/**
 * A copy of `data` with each row scaled to unit L2 norm (all-zero rows stay zero).
 * @example l2NormalizeRows(new Float32Array([3, 4]), 2) // [0.6, 0.8]
 */
export function l2NormalizeRows(data: ArrayLike<number>, dim: number): Float32Array {
  const n = rowCount(data, dim);
  const out = new Float32Array(data.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) s += data[o + j]! * data[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[o + j] = data[o + j]! * inv;
  }
  return out;
}

/** Squared L2 norm of each row. */
export function rowSqNorms(data: ArrayLike<number>, dim: number): Float32Array {
  const n = rowCount(data, dim);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[i * dim + j]! * data[i * dim + j]!;
    out[i] = s;
  }
  return out;
}

/**
 * Concatenates several matrices with the same row count side by side (row i = [a_i, b_i, …]),
 * optionally L2-normalising each block first and scaling it by a weight.
 * @example concatRows([{ data: img, dim: 64 }, { data: txt, dim: 128, weight: 0.5 }], { normalize: true })
 */
export function concatRows(
  blocks: ReadonlyArray<{ data: ArrayLike<number>; dim: number; weight?: number }>,
  opts: { normalize?: boolean } = {},
): { data: Float32Array; dim: number } {
  const { normalize = true } = opts;
  if (blocks.length === 0) throw new Error("concatRows: no blocks given");
  const n = rowCount(blocks[0]!.data, blocks[0]!.dim, "concatRows block 0");
  blocks.forEach((b, i) => {
    const m = rowCount(b.data, b.dim, `concatRows block ${i}`);
    if (m !== n) throw new Error(`concatRows: block ${i} has ${m} rows, block 0 has ${n} (expected equal)`);
  });
  const dim = blocks.reduce((s, b) => s + b.dim, 0);
  const out = new Float32Array(n * dim);
  let off = 0;
  for (const b of blocks) {
    const src = normalize ? l2NormalizeRows(b.data, b.dim) : b.data;
    const w = b.weight ?? 1;
    for (let i = 0; i < n; i++) for (let j = 0; j < b.dim; j++) out[i * dim + off + j] = src[i * b.dim + j]! * w;
    off += b.dim;
  }
  return { data: out, dim };
}
