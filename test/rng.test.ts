import { describe, expect, it } from "vitest";
import { Rng } from "../src/rng";

describe("Rng", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(7)));
    const b = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(7)));
    const c = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(8)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("restores exactly from a saved state", () => {
    const r = new Rng(3);
    r.next();
    const s = r.state;
    const x = [r.next(), r.next()];
    r.state = s;
    expect([r.next(), r.next()]).toEqual(x);
  });

  it("derives independent streams by key", () => {
    expect(Rng.derive(0, 1, 2).next()).toBe(Rng.derive(0, 1, 2).next());
    expect(Rng.derive(0, 1, 2).next()).not.toBe(Rng.derive(0, 2, 1).next());
  });

  it("draws uniform ints with the right mean and a valid permutation", () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += r.int(10);
    expect(sum / 20000).toBeCloseTo(4.5, 1);
    const p = Array.from(r.permutation(100)).sort((x, y) => x - y);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
