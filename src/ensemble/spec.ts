/**
 * The saved ensemble rule (`ensemble.json`), written by `matchlab match --tune --save-ensemble` and
 * applied by `matchlab predict`: which members (trained runs or cvs on a branch, baseline branches
 * computed from the data), the tuned weights and similarity thresholds, neighbourhood blending,
 * min-2, exact phash matches, and the scores the tuning measured. Pure JSON, validated on read.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../fs_atomic";
import type { EnsembleParams } from "./pair_table";

/** The format tag of ensemble.json. */
export const ENSEMBLE_FORMAT = "matchlab-ensemble/1";

/** The kinds of member, by where their similarities come from. */
export const MEMBER_KINDS = Object.freeze(["run", "tfidf", "pixels", "chars", "file"] as const);

/** Where a member's similarities come from: a run or cv (its model's embeddings on a branch), a baseline branch, or an embeddings file (tuning only). */
export type MemberSource = { kind: "run"; id: string; branch: string } | { kind: "tfidf" } | { kind: "pixels" } | { kind: "chars" } | { kind: "file"; file: string };

/** A saved ensemble. */
export interface EnsembleSpec {
  format: typeof ENSEMBLE_FORMAT;
  /** Members in weight order. */
  members: Array<{ name: string; source: MemberSource }>;
  /** The rule: weights, minSimilarity, branchMinSimilarities, min2. */
  params: EnsembleParams;
  /** Neighbours per posting per member. */
  k: number;
  /** Neighbourhood-blending stages on each dense member. */
  inb: number;
  /** Also match postings with the same image_phash. */
  phash: boolean;
  /** What tuning measured (F1s, thresholds, drift), for the record. */
  scores: Record<string, number | null>;
}

/** The member's display name for a source. */
export function memberName(s: MemberSource): string {
  switch (s.kind) {
    case "run":
      return `${s.id}:${s.branch}`;
    case "file":
      return s.file.replace(/^.*[\\/]/, "").replace(/\.f32$/, "");
    default:
      return s.kind;
  }
}

/** Writes ensemble.json atomically. */
export function writeEnsembleSpec(file: string, spec: EnsembleSpec): void {
  writeFileAtomic(file, `${JSON.stringify(spec, null, 2)}\n`);
}

/** Reads and checks ensemble.json; errors name the file and the field. */
export function readEnsembleSpec(file: string): EnsembleSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)} (expected the ensemble.json that matchlab match --save-ensemble writes)`);
  }
  const s = raw as EnsembleSpec;
  if (s?.format !== ENSEMBLE_FORMAT) throw new Error(`${file}: format is ${JSON.stringify(s?.format)}, expected "${ENSEMBLE_FORMAT}"`);
  if (!Array.isArray(s.members) || s.members.length === 0) throw new Error(`${file}: members must be a non-empty list`);
  s.members.forEach((m, i) => {
    const src = m?.source;
    if (!MEMBER_KINDS.includes(src?.kind)) throw new Error(`${file}: members[${i}].source.kind is ${JSON.stringify(src?.kind)} (expected one of ${MEMBER_KINDS.join("|")})`);
    if (src.kind === "run" && (typeof src.id !== "string" || typeof src.branch !== "string")) throw new Error(`${file}: members[${i}].source needs a run id and a branch (strings)`);
    if (src.kind === "file" && typeof src.file !== "string") throw new Error(`${file}: members[${i}].source needs a file (a string)`);
  });
  const p = s.params;
  if (!p || !Array.isArray(p.weights) || p.weights.length !== s.members.length || p.weights.some((w) => typeof w !== "number" || !(w >= 0)) || typeof p.minSimilarity !== "number") throw new Error(`${file}: params must hold one non-negative weight per member and a minSimilarity`);
  if (!Number.isInteger(s.k) || s.k < 1) throw new Error(`${file}: k must be a positive integer, got ${JSON.stringify(s.k)}`);
  if (!Number.isInteger(s.inb) || s.inb < 0) throw new Error(`${file}: inb must be an integer >= 0, got ${JSON.stringify(s.inb)}`);
  if (typeof s.phash !== "boolean") throw new Error(`${file}: phash must be true or false, got ${JSON.stringify(s.phash)}`);
  return s;
}
