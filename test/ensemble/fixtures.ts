/** Ensemble fixtures: two "branches" that each see part of the truth, with their neighbour lists. */
import { knnSearch } from "../../src/retrieval/knn";
import { Rng } from "../../src/rng";

/** n postings in groups of 2–4; branch A and B are noisy views (different noise) of the group centre. */
export async function twoBranches(seed: number, groups = 60, dim = 12) {
  const rng = new Rng(seed);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let g = 0; g < groups; g++) {
    const ca = Array.from({ length: dim }, () => rng.normal());
    const cb = Array.from({ length: dim }, () => rng.normal());
    const size = 2 + rng.int(3);
    for (let s = 0; s < size; s++) {
      labels.push(g);
      for (let c = 0; c < dim; c++) a.push(ca[c]! + 0.9 * rng.normal());
      for (let c = 0; c < dim; c++) b.push(cb[c]! + 0.9 * rng.normal());
    }
  }
  const n = labels.length;
  const folds = Int32Array.from(labels, (g) => g % 3);
  const A = Float32Array.from(a);
  const B = Float32Array.from(b);
  const nbA = await knnSearch(A, dim, { k: 8, engine: "js", label: null });
  const nbB = await knnSearch(B, dim, { k: 8, engine: "js", label: null });
  return { n, dim, labels: Int32Array.from(labels), folds, A, B, nbA, nbB };
}
