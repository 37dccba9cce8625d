import { describe, expect, it } from "vitest";
import { pcaProject } from "../../src/embeddings/index";
import { Rng } from "../../src/rng";

describe("pcaProject", () => {
  it("recovers known axes of an anisotropic cloud, deterministic under a seed", () => {
    // x = 5·a·u + 2·b·w + 0.1·noise, u ⟂ w in 4-d
    const r = new Rng(7);
    const n = 400;
    const u = [1, 1, 0, 0].map((v) => v / Math.SQRT2);
    const w = [0, 0, 1, -1].map((v) => v / Math.SQRT2);
    const x = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const a = r.normal() * 5;
      const b = r.normal() * 2;
      for (let j = 0; j < 4; j++) x[i * 4 + j] = a * u[j]! + b * w[j]! + 0.1 * r.normal() + 3;
    }
    const p = pcaProject(x, 4, { components: 2, seed: 1 });
    const dot = (k: number, v: number[]) => v.reduce((s, vj, j) => s + vj * p.axes[k * 4 + j]!, 0);
    expect(Math.abs(dot(0, u))).toBeGreaterThan(0.98);
    expect(Math.abs(dot(1, w))).toBeGreaterThan(0.98);
    // each axis is an eigenvector of the naive sample covariance: C·v = λ·v (1e-5 relative)
    const m = [0, 1, 2, 3].map((j) => Array.from({ length: n }, (_, i) => x[i * 4 + j]!).reduce((a, b) => a + b, 0) / n);
    const cov = [0, 1, 2, 3].map((a) =>
      [0, 1, 2, 3].map((b) => Array.from({ length: n }, (_, i) => (x[i * 4 + a]! - m[a]!) * (x[i * 4 + b]! - m[b]!)).reduce((s, v) => s + v, 0) / (n - 1)),
    );
    for (let k = 0; k < 2; k++) {
      for (let a = 0; a < 4; a++) {
        const cv = cov[a]!.reduce((s, c, b) => s + c * p.axes[k * 4 + b]!, 0);
        expect(Math.abs(cv - p.variance[k]! * p.axes[k * 4 + a]!)).toBeLessThan(1e-5 * p.variance[0]!);
      }
    }
    expect(p.variance[0]! / p.variance[1]!).toBeGreaterThan(4);
    expect(p.explained[0]! + p.explained[1]!).toBeGreaterThan(0.99);
    // scores equal centred x · axis (naive loop), and the projection is deterministic
    for (let i = 0; i < 5; i++) {
      let s = 0;
      for (let j = 0; j < 4; j++) s += (x[i * 4 + j]! - p.mean[j]!) * p.axes[j]!;
      expect(p.projected[i * 2]).toBeCloseTo(s, 4);
    }
    expect(Array.from(pcaProject(x, 4, { seed: 1 }).projected)).toEqual(Array.from(p.projected));
    expect(() => pcaProject(x, 3)).toThrow(/not a multiple of dim 3/);
  });
});
