/** The competition's submission file: `posting_id,matches`, matches space-separated, written atomically. */
import path from "node:path";
import { removeAtomicLeftovers, writeFileAtomic } from "../fs_atomic";
import { formatCsv } from "./csv";

/** Thrown when a submission does not fit its labels (duplicate, missing or unknown posting ids): the message names the file and what was expected. */
export class SubmissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SubmissionError";
  }
}

/**
 * Writes a submission: one row per posting, its matches (dataset rows) as space-separated posting ids.
 * @example writeSubmission("submission.csv", ds.listings.map((l) => l.postingId), sets)
 */
export function writeSubmission(file: string, postingIds: readonly string[], matches: ReadonlyArray<ArrayLike<number>>): void {
  if (matches.length !== postingIds.length) throw new Error(`writeSubmission: ${matches.length} match sets for ${postingIds.length} postings`);
  removeAtomicLeftovers(path.dirname(path.resolve(file)));
  writeFileAtomic(file, formatCsv(["posting_id", "matches"], matches.map((s, i) => [postingIds[i]!, Array.from(s, (j) => postingIds[j]!).join(" ")])));
}
