import { describe, expect, it } from "vitest";
import { normalizeEmbeddingRows, parsePooling, poolTokenStates } from "../../src/embeddings/index";
import { Rng } from "../../src/rng";

function naive(states: Float32Array, n: number, s: number, h: number, mask: number[] | null, pooling: string): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const rows: number[][] = [];
    for (let t = 0; t < s; t++) if (!mask || mask[i * s + t]) rows.push(Array.from(states.slice((i * s + t) * h, (i * s + t + 1) * h)));
    if (pooling === "cls") out.push(Array.from(states.slice(i * s * h, i * s * h + h)));
    else if (rows.length === 0) out.push(new Array(h).fill(0));
    else if (pooling === "mean") out.push(rows[0]!.map((_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length));
    else out.push(rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!))));
  }
  return out;
}

describe("poolTokenStates", () => {
  const rng = new Rng(3);
  const [n, s, h] = [3, 5, 4];
  const states = Float32Array.from({ length: n * s * h }, () => rng.normal());
  const mask = [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
  for (const p of ["cls", "mean", "max"] as const) {
    it(`${p} matches a naive loop, with and without a mask (1e-6)`, () => {
      for (const m of [mask, null]) {
        const got = poolTokenStates(states, [n, s, h], m, p);
        const want = naive(states, n, s, h, m, p);
        for (let i = 0; i < n; i++) for (let j = 0; j < h; j++) expect(got[i * h + j]).toBeCloseTo(want[i]![j]!, 6);
      }
    });
  }
  it("accepts a BigInt64Array mask (transformers.js attention_mask)", () => {
    const big = BigInt64Array.from(mask.map((v) => BigInt(v)));
    expect(Array.from(poolTokenStates(states, [n, s, h], big, "mean"))).toEqual(Array.from(poolTokenStates(states, [n, s, h], mask, "mean")));
  });
  it("rejects wrong sizes and unknown poolings with clear messages", () => {
    expect(() => poolTokenStates(states, [n, s, h + 1], null, "mean")).toThrow(/expected 3×5×5/);
    expect(() => poolTokenStates(states, [n, s, h], null, "sum" as never)).toThrow("unknown pooling: sum (expected cls|mean|max)");
    expect(() => parsePooling("avg")).toThrow("unknown pooling: avg (expected cls|mean|max)");
  });
});

describe("normalizeEmbeddingRows", () => {
  it("gives unit rows and leaves zero rows alone", () => {
    const x = Float32Array.from([3, 4, 0, 0, 1, 1]);
    normalizeEmbeddingRows(x, 2);
    expect(Array.from(x).map((v) => +v.toFixed(6))).toEqual([0.6, 0.8, 0, 0, +Math.SQRT1_2.toFixed(6), +Math.SQRT1_2.toFixed(6)]);
    expect(() => normalizeEmbeddingRows(new Float32Array(5), 2)).toThrow(/not a multiple/);
  });
});
