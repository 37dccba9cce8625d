/** Dataset summaries the EDA and fold notebooks share: group sizes and duplicate images by phash. */
import type { Listing } from "./dataset";

/** Rows per group (label_group by default), first-seen order. */
export function listingGroupSizes(listings: readonly Listing[], key: (l: Listing) => string = (l) => l.labelGroup): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of listings) m.set(key(l), (m.get(key(l)) ?? 0) + 1);
  return m;
}

/** A size as a bucket label: "1", "2", …, `${max}+`. */
export function sizeBucket(size: number, max = 5): string {
  return size >= max ? `${max}+` : String(size);
}

/** Listings sharing one image_phash. */
export interface PhashDuplicate {
  phash: string;
  /** Row indices of the listings with this phash. */
  rows: number[];
  /** Distinct label_groups among them (1 = the duplicate stays inside its group). */
  labelGroups: number;
}

/** Sets of listings with an identical image_phash (at least 2 rows), largest first; empty phashes are ignored. */
export function phashDuplicates(listings: readonly Listing[]): PhashDuplicate[] {
  const by = new Map<string, number[]>();
  listings.forEach((l, i) => {
    if (!l.imagePhash) return;
    const a = by.get(l.imagePhash);
    if (a) a.push(i);
    else by.set(l.imagePhash, [i]);
  });
  const out: PhashDuplicate[] = [];
  for (const [phash, rows] of by) {
    if (rows.length < 2) continue;
    out.push({ phash, rows, labelGroups: new Set(rows.map((r) => listings[r]!.labelGroup)).size });
  }
  return out.sort((a, b) => b.rows.length - a.rows.length || (a.phash < b.phash ? -1 : 1));
}
