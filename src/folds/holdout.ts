/**
 * A held-out test split by groups, the way the competition's test set holds products never seen in
 * training: whole label groups go to the test side, in a seeded order, until it holds `frac` of the
 * rows. Pure over the group labels.
 */
import { Rng } from "../rng";
import { FoldsError } from "./types";

/** Options for {@link holdoutGroups}. */
export interface HoldoutOptions {
  /** The share of rows to hold out, in (0, 1). Defaults to 0.2. */
  frac?: number;
  /** Seed of the group order. Defaults to 0. */
  seed?: number;
}

/**
 * Splits rows into train and test by group: no group has rows on both sides.
 * @example const { train, test } = holdoutGroups(ds.listings.map((l) => l.labelGroup), { frac: 0.2, seed: 0 });
 */
export function holdoutGroups(groups: readonly string[], opts: HoldoutOptions = {}): { train: Int32Array; test: Int32Array } {
  const { frac = 0.2, seed = 0 } = opts;
  if (!(frac > 0 && frac < 1)) throw new FoldsError(`holdoutGroups: frac must be in (0, 1), got ${frac}`);
  const names = [...new Set(groups)].sort();
  if (names.length < 2) throw new FoldsError(`holdoutGroups: ${names.length} group(s); a split needs at least 2`);
  const size = new Map<string, number>();
  for (const g of groups) size.set(g, (size.get(g) ?? 0) + 1);
  const order = Rng.derive(seed, "holdout").permutation(names.length);
  const held = new Set<string>();
  let rows = 0;
  for (const i of order) {
    if (rows >= frac * groups.length || held.size === names.length - 1) break;
    held.add(names[i]!);
    rows += size.get(names[i]!)!;
  }
  const train: number[] = [];
  const test: number[] = [];
  groups.forEach((g, r) => {
    (held.has(g) ? test : train).push(r);
  });
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
