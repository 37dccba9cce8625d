/** Test fixtures for retrieval: clustered random embeddings under a seed. */
import { Rng } from "../../src/rng";

/** `groups` clusters of `per` rows each (dim d), plus their labels; rows are noisy copies of a centre. */
export function clustered(seed: number, groups: number, per: number, dim: number, noise = 0.3) {
  const rng = new Rng(seed);
  const n = groups * per;
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let g = 0; g < groups; g++) {
    const c = Array.from({ length: dim }, () => rng.normal());
    for (let p = 0; p < per; p++) {
      const i = g * per + p;
      labels[i] = g;
      for (let j = 0; j < dim; j++) data[i * dim + j] = c[j]! + noise * rng.normal();
    }
  }
  // shuffle rows so groups are not contiguous
  const perm = rng.permutation(n);
  const out = new Float32Array(n * dim);
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    out.set(data.subarray(perm[i]! * dim, (perm[i]! + 1) * dim), i * dim);
    lab[i] = labels[perm[i]!]!;
  }
  return { data: out, labels: lab, n, dim };
}

/** Brute-force neighbours by sorting all distances (the naive reference). */
export function naiveKnn(q: Float32Array, g: Float32Array, dim: number, k: number, metric: "cosine" | "euclidean") {
  const nq = q.length / dim;
  const ng = g.length / dim;
  const norm = (a: Float32Array, i: number) => Math.sqrt(a.subarray(i * dim, (i + 1) * dim).reduce((s, x) => s + x * x, 0));
  const rows: { j: number; d: number }[][] = [];
  for (let i = 0; i < nq; i++) {
    const all: { j: number; d: number }[] = [];
    for (let j = 0; j < ng; j++) {
      let dot = 0;
      let sq = 0;
      for (let t = 0; t < dim; t++) {
        dot += q[i * dim + t]! * g[j * dim + t]!;
        sq += (q[i * dim + t]! - g[j * dim + t]!) ** 2;
      }
      all.push({ j, d: metric === "cosine" ? 1 - dot / (norm(q, i) * norm(g, j)) : Math.sqrt(sq) });
    }
    all.sort((a, b) => a.d - b.d);
    rows.push(all.slice(0, k));
  }
  return rows;
}
