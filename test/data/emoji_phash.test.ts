import { describe, expect, it } from "vitest";
import { dctLowFrequencies, phash, phashDistance } from "../../src/data/phash";
import { Rng } from "../../src/rng";

/** A smooth random greyscale image (sum of a few random cosines), values in [0, 255]. */
function smoothImage(seed: number, w: number, h: number): Uint8Array {
  const rng = new Rng(seed);
  const waves = Array.from({ length: 6 }, () => ({ fx: rng.uniform(0, 4), fy: rng.uniform(0, 4), p: rng.uniform(0, 6.28), a: rng.uniform(10, 40) }));
  const img = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 128;
      for (const wv of waves) v += wv.a * Math.cos((2 * Math.PI * (wv.fx * x)) / w + (2 * Math.PI * (wv.fy * y)) / h + wv.p);
      img[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return img;
}

/** Naive pHash: full 32×32 DCT-II by the textbook double sum, keep 8×8, median threshold. */
function naivePhash(grey32: Float64Array): string {
  const n = 32;
  const coef: number[] = [];
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          s += grey32[y * n + x]! * Math.cos((Math.PI * (2 * x + 1) * u) / (2 * n)) * Math.cos((Math.PI * (2 * y + 1) * v) / (2 * n));
        }
      }
      coef.push(s);
    }
  }
  const sorted = [...coef].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let bits = "";
  for (const c of coef) bits += c > median ? "1" : "0";
  let hex = "";
  for (let i = 0; i < 64; i += 4) hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex;
}

describe("phash", () => {
  it("matches a naive full DCT on a 32×32 image (no resizing involved)", () => {
    for (const seed of [1, 2, 3]) {
      const img = smoothImage(seed, 32, 32);
      expect(phash(img, 32, 32)).toBe(naivePhash(Float64Array.from(img)));
    }
  });

  it("separable DCT equals the double-sum DCT within 1e-9", () => {
    const img = Float64Array.from(smoothImage(9, 32, 32));
    const fast = dctLowFrequencies(img, 32, 8);
    const n = 32;
    for (let v = 0; v < 8; v++) {
      for (let u = 0; u < 8; u++) {
        let s = 0;
        for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) s += img[y * n + x]! * Math.cos((Math.PI * (2 * x + 1) * u) / (2 * n)) * Math.cos((Math.PI * (2 * y + 1) * v) / (2 * n));
        expect(Math.abs(fast[v * 8 + u]! - s)).toBeLessThan(1e-9 * Math.max(1, Math.abs(s)));
      }
    }
  });

  it("gives 16 hex digits, the same hash for RGB, RGBA (opaque) and grey copies of an image", () => {
    const g = smoothImage(4, 48, 40);
    const rgb = new Uint8Array(g.length * 3);
    const rgba = new Uint8Array(g.length * 4);
    for (let i = 0; i < g.length; i++) {
      rgb.fill(g[i]!, i * 3, i * 3 + 3);
      rgba.fill(g[i]!, i * 4, i * 4 + 3);
      rgba[i * 4 + 3] = 255;
    }
    const h = phash(g, 48, 40);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(phash(rgb, 48, 40)).toBe(h);
    expect(phash(rgba, 48, 40)).toBe(h);
  });

  it("is stable under upscaling and brightness shifts, and far apart for different images", () => {
    const a = smoothImage(5, 32, 32);
    const up = new Uint8Array(64 * 64);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) up[y * 64 + x] = a[(y >> 1) * 32 + (x >> 1)]!;
    const brighter = a.map((v) => Math.min(255, v + 5));
    const other = smoothImage(6, 32, 32);
    const h = phash(a, 32, 32);
    expect(phashDistance(h, phash(up, 64, 64))).toBe(0);
    expect(phashDistance(h, phash(brighter, 32, 32))).toBeLessThanOrEqual(2);
    expect(phashDistance(h, phash(other, 32, 32))).toBeGreaterThan(12);
  });

  it("rejects bad input with what was expected", () => {
    expect(() => phash(new Uint8Array(10), 4, 4)).toThrow(/channels must be 1, 2, 3 or 4/);
    expect(() => phash(new Uint8Array(16), 0, 4)).toThrow(/positive integers/);
    expect(() => phashDistance("ab", "abc")).toThrow(/length/);
    expect(phashDistance("ff00", "0f01")).toBe(5);
  });
});
