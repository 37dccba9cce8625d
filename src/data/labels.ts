/**
 * Class labels and model text from listings: a label column encoded to dense class codes, and the
 * text a model reads for a listing (the title, with or without the listing's tags).
 */
import type { Listing } from "./dataset";

/** Encoded class labels: a code per listing and the class names in code order. */
export interface EncodedLabels {
  /** The column the labels came from. */
  column: string;
  /** codes[i] is listing i's class, in 0..names.length-1. */
  codes: Int32Array;
  /** Class names, sorted (so codes do not depend on row order). */
  names: string[];
  /** Listings per class, by code. */
  counts: Int32Array;
}

const BUILTIN: Record<string, (l: Listing) => string> = {
  label_group: (l) => l.labelGroup,
  posting_id: (l) => l.postingId,
  title: (l) => l.title,
};

/**
 * Encodes a label column (`label_group` or any extra CSV column such as `subgroup`, `group`) to
 * class codes. Throws naming the rows whose value is missing or empty, and the known columns when
 * the column is absent.
 * @example const { codes, names } = encodeClassLabels(ds.listings, "subgroup");
 */
export function encodeClassLabels(listings: readonly Listing[], column: string): EncodedLabels {
  if (listings.length === 0) throw new Error("encodeClassLabels: no listings");
  const get = BUILTIN[column] ?? ((l: Listing) => l.extra[column]);
  if (!(column in BUILTIN) && !(column in listings[0]!.extra)) {
    const known = [...Object.keys(BUILTIN), ...Object.keys(listings[0]!.extra)];
    throw new Error(`unknown label column: ${column} (expected ${known.join("|")})`);
  }
  const values = listings.map(get);
  const bad = values.flatMap((v, i) => (v === undefined || v === "" ? [i] : []));
  if (bad.length > 0) {
    const where = bad.slice(0, 5).map((i) => `row ${i} (posting_id ${listings[i]!.postingId})`);
    throw new Error(`label column ${column}: ${bad.length} listing(s) have no value: ${where.join(", ")}${bad.length > 5 ? ", …" : ""}`);
  }
  const names = [...new Set(values as string[])].sort();
  const code = new Map(names.map((n, i) => [n, i] as const));
  const codes = Int32Array.from(values as string[], (v) => code.get(v)!);
  const counts = new Int32Array(names.length);
  for (const c of codes) counts[c]!++;
  return { column, codes, names, counts };
}

/**
 * The text a model reads for a listing: the title, plus the `tags` column ('|'-joined) when
 * `withTags` is set.
 * @example listingText(listing, true) // "Grinning face grinning face | face | grin"
 */
export function listingText(listing: Listing, withTags: boolean): string {
  if (!withTags) return listing.title;
  const tags = listing.extra.tags;
  if (tags === undefined) throw new Error(`listingText: listing ${listing.postingId} has no tags column (the dataset needs a 'tags' column for a with-tags run)`);
  return tags ? `${listing.title} ${tags.split("|").join(" ")}` : listing.title;
}

