/**
 * holdoutGroups: whole label groups go to the test side in a seeded order until it holds `frac`
 * of the rows; checked against the contract (no group on both sides, the share of rows, every row
 * once), determinism under a seed, and its errors.
 */
import { describe, expect, it } from "vitest";
import { holdoutGroups } from "../../src/folds/holdout";
import { Rng } from "../../src/rng";

/** Groups of uneven sizes (1…6 rows), rows shuffled so a group's rows are not contiguous. */
function unevenGroups(nGroups: number, seed: number): string[] {
  const r = new Rng(seed);
  const rows: string[] = [];
  for (let g = 0; g < nGroups; g++) for (let k = 0; k < 1 + r.int(6); k++) rows.push(`g${g}`);
  const perm = r.permutation(rows.length);
  return Array.from(perm, (i) => rows[i]!);
}

function sizes(groups: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of groups) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
}

describe("holdoutGroups", () => {
  it.each([
    [0.1, 0],
    [0.2, 1],
    [0.25, 2],
    [0.5, 3],
    [0.8, 4],
  ])("frac %d, seed %d: whole groups, every row once, share in [frac, frac + largest group)", (frac, seed) => {
    const groups = unevenGroups(40, 100 + seed);
    const n = groups.length;
    const { train, test } = holdoutGroups(groups, { frac, seed });
    expect(train).toBeInstanceOf(Int32Array);
    expect(test).toBeInstanceOf(Int32Array);
    // every row exactly once, each side ascending
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const side of [train, test]) for (let i = 1; i < side.length; i++) expect(side[i]!).toBeGreaterThan(side[i - 1]!);
    // no group on both sides
    const trainGroups = new Set(Array.from(train, (r) => groups[r]!));
    const testGroups = new Set(Array.from(test, (r) => groups[r]!));
    for (const g of testGroups) expect(trainGroups.has(g), `group ${g} on both sides`).toBe(false);
    // whole groups: a held group's rows are all in test
    const size = sizes(groups);
    for (const g of testGroups) expect(Array.from(test).filter((r) => groups[r] === g).length).toBe(size.get(g));
    // the share of rows: at least frac, short of frac plus the largest group
    const largest = Math.max(...size.values());
    expect(test.length).toBeGreaterThanOrEqual(frac * n);
    expect(test.length).toBeLessThan(frac * n + largest);
    expect(train.length).toBeGreaterThan(0);
  });

  it("defaults to frac 0.2 and seed 0", () => {
    const groups = unevenGroups(30, 7);
    expect(holdoutGroups(groups)).toEqual(holdoutGroups(groups, { frac: 0.2, seed: 0 }));
    expect(holdoutGroups(groups).test.length).toBeGreaterThanOrEqual(0.2 * groups.length);
  });

  it("is deterministic under a seed, different seeds hold out different groups", () => {
    const groups = unevenGroups(50, 11);
    const a = holdoutGroups(groups, { frac: 0.3, seed: 5 });
    const b = holdoutGroups([...groups], { frac: 0.3, seed: 5 });
    expect(Array.from(b.test)).toEqual(Array.from(a.test));
    expect(Array.from(b.train)).toEqual(Array.from(a.train));
    const held = (s: number) => [...new Set(Array.from(holdoutGroups(groups, { frac: 0.3, seed: s }).test, (r) => groups[r]!))].sort().join();
    const seen = new Set([0, 1, 2, 3, 4, 5].map(held));
    expect(seen.size).toBeGreaterThan(1);
    expect(held(0)).not.toBe(held(1));
  });

  it("depends on the group names, not the row order", () => {
    const groups = unevenGroups(25, 3);
    const perm = new Rng(9).permutation(groups.length);
    const shuffled = Array.from(perm, (i) => groups[i]!);
    const heldOf = (gs: readonly string[]) => new Set(Array.from(holdoutGroups(gs, { frac: 0.3, seed: 2 }).test, (r) => gs[r]!));
    expect(heldOf(shuffled)).toEqual(heldOf(groups));
  });

  it("always leaves at least one group for training", () => {
    const groups = ["a", "a", "a", "b"];
    for (let seed = 0; seed < 6; seed++) {
      const { train, test } = holdoutGroups(groups, { frac: 0.9, seed });
      expect(train.length).toBeGreaterThan(0);
      expect(test.length).toBeGreaterThan(0);
      expect(new Set(Array.from(train, (r) => groups[r]!)).size).toBe(1);
    }
  });

  it.each([0, 1, -0.1, 1.5, Number.NaN])("rejects frac %d", (frac) => {
    expect(() => holdoutGroups(["a", "a", "b", "b"], { frac })).toThrow(/holdoutGroups: frac must be in \(0, 1\), got/);
  });

  it("rejects a single group or none", () => {
    expect(() => holdoutGroups(["a", "a", "a"], { frac: 0.5 })).toThrow(/1 group\(s\); a split needs at least 2/);
    expect(() => holdoutGroups([], { frac: 0.5 })).toThrow(/0 group\(s\); a split needs at least 2/);
  });
});
