/**
 * The one seeded random source. Every random choice in matchlab flows from an `Rng` passed in;
 * there is no global RNG. `Rng.derive(seed, ...keys)` gives independent streams per
 * (seed, epoch, index) so that results do not depend on the order work is done in.
 */

/** 32-bit integer hash (murmur3 finaliser); mixes keys into a stream seed. */
export function hash32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hashes a string to 32 bits (FNV-1a then mixed). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return hash32(h);
}

/** A small, fast, seedable PRNG (mulberry32) whose state can be saved and restored exactly. */
export class Rng {
  private s: number;

  constructor(seed = 0) {
    this.s = hash32(seed >>> 0 || 0x9e3779b9);
  }

  /** A stream for (seed, ...keys), independent of any other stream's use. Keys may be numbers or strings. */
  static derive(seed: number, ...keys: Array<number | string>): Rng {
    let h = hash32(seed);
    for (const k of keys) h = hash32(h ^ (typeof k === "number" ? hash32(k + 0x632be5ab) : hashString(k)));
    const r = new Rng(0);
    r.s = h;
    return r;
  }

  /** The internal state, for checkpoints. */
  get state(): number {
    return this.s;
  }

  set state(v: number) {
    this.s = v >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** One element of a non-empty array. */
  pick<T>(a: readonly T[]): T {
    if (a.length === 0) throw new Error("Rng.pick: empty array");
    return a[this.int(a.length)]!;
  }
}

/** Lowercase factory for {@link Rng}. */
export function rng(seed = 0): Rng {
  return new Rng(seed);
}
