/**
 * Bit-exact re-implementations of the few numpy 1.24 routines scikit-learn's splitters rely on,
 * so that our unshuffled splits equal sklearn's: `np.unique` (sorted codes), `np.argsort` with
 * the default introsort (not stable: ties follow numpy's partition order), pairwise summation
 * (what `np.sum`/`np.mean`/`np.std` use along a contiguous axis) and `np.isclose`.
 */
import { FoldsError } from "./types";

/** A label value as read from a column: number or string. */
export type LabelValue = string | number;

/** Sorted unique values and each row's code into them (np.unique(return_inverse, return_counts)). */
export function uniqueInverse(values: ArrayLike<LabelValue>): { uniques: LabelValue[]; inverse: Int32Array; counts: Int32Array } {
  const n = values.length;
  const set = new Set<LabelValue>();
  let numeric = 0;
  for (let i = 0; i < n; i++) {
    set.add(values[i]!);
    if (typeof values[i] === "number") numeric++;
  }
  if (numeric !== 0 && numeric !== n) throw new FoldsError("labels mix numbers and strings (convert them to one type first)");
  const uniques = [...set];
  if (numeric) (uniques as number[]).sort((a, b) => a - b);
  else (uniques as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map<LabelValue, number>();
  uniques.forEach((u, i) => {
    index.set(u, i);
  });
  const inverse = new Int32Array(n);
  const counts = new Int32Array(uniques.length);
  for (let i = 0; i < n; i++) {
    const c = index.get(values[i]!)!;
    inverse[i] = c;
    counts[c]!++;
  }
  return { uniques, inverse, counts };
}

function msb(n: number): number {
  let d = 0;
  while (n > 1) {
    n = Math.floor(n / 2);
    d++;
  }
  return d;
}

function aheapsort(v: ArrayLike<number>, a: Int32Array, start: number, n: number): void {
  // a is offset by one: element k lives at a[start + k - 1]
  const get = (k: number) => a[start + k - 1]!;
  const set = (k: number, x: number) => {
    a[start + k - 1] = x;
  };
  let i: number;
  let j: number;
  let tmp: number;
  for (let l = n >> 1; l > 0; --l) {
    tmp = get(l);
    for (i = l, j = l << 1; j <= n; ) {
      if (j < n && v[get(j)]! < v[get(j + 1)]!) j += 1;
      if (v[tmp]! < v[get(j)]!) {
        set(i, get(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
  for (; n > 1; ) {
    tmp = get(n);
    set(n, get(1));
    n -= 1;
    for (i = 1, j = 2; j <= n; ) {
      if (j < n && v[get(j)]! < v[get(j + 1)]!) j++;
      if (v[tmp]! < v[get(j)]!) {
        set(i, get(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
}

/**
 * `np.argsort(v)` with numpy 1.24's default kind ("quicksort", an introsort: median-of-3
 * partitioning, insertion sort for partitions of at most 16 elements (SMALL_QUICKSORT = 15), heapsort past the depth limit). Equal values
 * come out in the same (not index-stable) order numpy gives.
 */
export function argsortNumpy(v: ArrayLike<number>): Int32Array {
  const num = v.length;
  const t = new Int32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  const SMALL = 15; // numpy's SMALL_QUICKSORT
  let pl = 0;
  let pr = num - 1;
  const stack: number[] = [];
  const depthStack: number[] = [];
  let cdepth = msb(num) * 2;
  const swap = (x: number, y: number) => {
    const s = t[x]!;
    t[x] = t[y]!;
    t[y] = s;
  };
  for (;;) {
    let popped = false;
    if (cdepth < 0) {
      aheapsort(v, t, pl, pr - pl + 1);
      popped = true;
    }
    if (!popped) {
      while (pr - pl > SMALL) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        if (v[t[pr]!]! < v[t[pm]!]!) swap(pr, pm);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        const vp = v[t[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (v[t[pi]!]! < vp);
          do --pj;
          while (vp < v[t[pj]!]!);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        const pk = pr - 1;
        swap(pi, pk);
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depthStack.push(--cdepth);
      }
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = t[pi]!;
        const vpv = v[vi]!;
        let pj = pi;
        let pk = pi - 1;
        while (pj > pl && vpv < v[t[pk]!]!) t[pj--] = t[pk--]!;
        t[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return t;
}

/** numpy's pairwise summation of `a[off], a[off+stride], …` (n terms), as `np.sum` does along a contiguous axis. */
export function pairwiseSum(a: ArrayLike<number>, off = 0, n = a.length, stride = 1): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[off + i * stride]!;
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[off + j * stride]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = r[j]! + a[off + (i + j) * stride]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[off + i * stride]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, off, n2, stride) + pairwiseSum(a, off + n2 * stride, n - n2, stride);
}

/** `np.std(row)` (ddof 0) of one contiguous row of `n` values starting at `off`. */
export function stdContiguous(a: ArrayLike<number>, off: number, n: number): number {
  const mean = (0 + pairwiseSum(a, off, n)) / n;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = a[off + i]! - mean;
    sq[i] = d * d;
  }
  return Math.sqrt((0 + pairwiseSum(sq, 0, n)) / n);
}

/** `np.isclose(a, b)` with the default rtol=1e-5, atol=1e-8. */
export function isCloseNumpy(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b);
}
