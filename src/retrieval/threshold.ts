/**
 * Which way a threshold runs. Neighbour lists (src/retrieval) hold distances, so their rules keep a
 * pair when its distance is ≤ a maximum; the ensemble (src/ensemble) scores pairs by similarity, so
 * its rules keep a pair when its similarity is ≥ a minimum. A bare number cannot say which, so code
 * passes a {@link Threshold}, or names the number `maxDistance` / `minSimilarity`
 * (`distance_threshold` / `similarity_threshold` in snake_case columns, `--max-distance` /
 * `--min-similarity` on the command line). Conversions assume cosine: distance = 1 − similarity.
 * Pure: no tfjs.
 */

/** The two ways a threshold runs: keep distance ≤ value, or keep similarity ≥ value. */
export const THRESHOLD_KINDS = Object.freeze(["distance", "similarity"] as const);

/** `distance` (match when distance ≤ value) or `similarity` (match when similarity ≥ value). */
export type ThresholdKind = (typeof THRESHOLD_KINDS)[number];

/**
 * A threshold that says which way it runs.
 * @example const t: Threshold = { kind: "distance", value: 0.35 }; // match when cosine distance ≤ 0.35
 */
export interface Threshold {
  kind: ThresholdKind;
  value: number;
}

/**
 * A threshold of the given kind; throws on an unknown kind (listing the valid ones) or a
 * non-finite value.
 * @example thresholdOf("similarity", 0.65) // { kind: "similarity", value: 0.65 }
 */
export function thresholdOf(kind: string, value: number): Threshold {
  if (!(THRESHOLD_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown threshold kind: ${kind} (expected ${THRESHOLD_KINDS.join("|")})`);
  if (!Number.isFinite(value)) throw new Error(`${kind} threshold must be a finite number, got ${value}`);
  return { kind: kind as ThresholdKind, value };
}

/** A distance threshold: match when distance ≤ `value`. */
export function distanceThreshold(value: number): Threshold {
  return thresholdOf("distance", value);
}

/** A similarity threshold: match when similarity ≥ `value`. */
export function similarityThreshold(value: number): Threshold {
  return thresholdOf("similarity", value);
}

function checkKind(t: Threshold): ThresholdKind {
  switch (t.kind) {
    case "distance":
    case "similarity":
      return t.kind;
    default:
      throw new Error(`unknown threshold kind: ${String((t as { kind: unknown }).kind)} (expected ${THRESHOLD_KINDS.join("|")})`);
  }
}

/**
 * The threshold as a maximum cosine distance (a similarity threshold s becomes 1 − s).
 * @example asDistance(similarityThreshold(0.65)) // 0.35
 */
export function asDistance(t: Threshold): number {
  return checkKind(t) === "distance" ? t.value : 1 - t.value;
}

/**
 * The threshold as a minimum cosine similarity (a distance threshold d becomes 1 − d).
 * @example asSimilarity(distanceThreshold(0.35)) // 0.65
 */
export function asSimilarity(t: Threshold): number {
  return checkKind(t) === "similarity" ? t.value : 1 - t.value;
}

/**
 * The same rule expressed as the other (or the same) kind, assuming cosine.
 * @example convertThreshold(distanceThreshold(0.35), "similarity") // { kind: "similarity", value: 0.65 }
 */
export function convertThreshold(t: Threshold, kind: ThresholdKind): Threshold {
  return thresholdOf(kind, kind === "distance" ? asDistance(t) : asSimilarity(t));
}

/**
 * Whether a pair at this cosine distance passes the threshold (distance ≤ its maximum distance).
 * A threshold of the same kind compares exactly; the other kind is converted first.
 */
export function matchesDistance(t: Threshold, distance: number): boolean {
  return distance <= asDistance(t);
}

/**
 * Whether a pair at this cosine similarity passes the threshold (similarity ≥ its minimum similarity).
 * A threshold of the same kind compares exactly; the other kind is converted first.
 */
export function matchesSimilarity(t: Threshold, similarity: number): boolean {
  return similarity >= asSimilarity(t);
}

/**
 * The rule as text, rounded to `digits` decimals without trailing zeros. Defaults to 3 digits.
 * @example formatThreshold(distanceThreshold(0.35)) // "distance ≤ 0.35"
 * @example formatThreshold(similarityThreshold(0.65)) // "similarity ≥ 0.65"
 */
export function formatThreshold(t: Threshold, digits = 3): string {
  const v = String(Number(t.value.toFixed(digits)));
  return checkKind(t) === "distance" ? `distance ≤ ${v}` : `similarity ≥ ${v}`;
}
