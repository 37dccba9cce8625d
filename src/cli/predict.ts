/**
 * `matchlab predict --ensemble ensemble.json --dataset DIR --csv test.csv --out submission.csv`:
 * embeds an unlabelled dataset with every trained member (a cv's fold models averaged, then
 * L2-normalised), recomputes the baseline branches on it, applies the ensemble rule saved by
 * `matchlab match --tune --save-ensemble`, and writes `posting_id,matches` atomically. Without
 * --ensemble, `--runs` members with equal weights and --min-similarity (or --max-distance).
 */
import path from "node:path";
import { initBackend } from "../backend/index";
import { loadDataset, writeSubmission } from "../data/index";
import { buildPairTable, type EnsembleSpec, ENSEMBLE_FORMAT, type MemberSource, pairTableMatches, readEnsembleSpec } from "../ensemble/index";
import { env } from "../env";
import { matchScores } from "../metrics/index";
import { asSimilarity, combineMatches, exactKeyMatches, formatThreshold, similarityThreshold } from "../retrieval/index";
import { buildMembers } from "../train/members";
import { labelCodes } from "../data/dataset";
import { type Command, type FlagSpec, parseFlags, required, stringFlag, thresholdFlags, UsageError } from "./common";

const SUMMARY = "embed an unlabelled dataset with trained runs and write a posting_id,matches submission (the rule from matchlab match --save-ensemble)";
const FLAGS: Record<string, FlagSpec> = {
  ensemble: { type: "string", help: "ensemble.json written by matchlab match --tune --save-ensemble (members, weights, thresholds)" },
  runs: { type: "string", help: "without --ensemble: run or cv ids, comma-separated, each optionally :branch (equal weights)" },
  branch: { type: "string", default: "fused", help: "the branch of --runs members without :branch" },
  "min-similarity": { type: "string", help: "without --ensemble: match when the mean cosine similarity is ≥ this (default 0.5)" },
  "max-distance": { type: "string", help: "without --ensemble: match when the mean cosine distance is ≤ this" },
  dataset: { type: "string", help: "the dataset folder (default: $MATCHLAB_DATASET)" },
  csv: { type: "string", default: "test.csv", help: "the CSV inside the dataset folder (label_group not needed)" },
  images: { type: "string", help: "image folder inside the dataset folder (default: <csv name>_images, e.g. test_images)" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  "with-all": { type: "boolean", help: "cv members also average in their model trained on every row (matchlab cv --all)" },
  backend: { type: "string", help: "compute backend (auto|tensorflow|wasm|cpu; default: $MATCHLAB_BACKEND or auto)" },
  out: { type: "string", help: "the submission CSV to write" },
  json: { type: "boolean", help: "print one JSON line {out, postings, members, f1}" },
};

/** The spec from --ensemble, or one made from --runs with equal weights. */
function specOf(p: NonNullable<ReturnType<typeof parseFlags>>): EnsembleSpec {
  const file = stringFlag(p, "ensemble");
  const runs = stringFlag(p, "runs");
  if (file && runs) throw new UsageError("give --ensemble or --runs, not both (the ensemble names its members)");
  if (file) {
    for (const f of ["min-similarity", "max-distance"]) if (p.values[f] !== undefined) throw new UsageError(`--${f}: the ensemble's rule sets its thresholds (${file})`);
    return readEnsembleSpec(file);
  }
  if (!runs) throw new UsageError("give --ensemble ensemble.json (from matchlab match --tune --save-ensemble) or --runs");
  const minSimilarity = asSimilarity(thresholdFlags(p, 0.5));
  const sources = runs
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r): MemberSource => (r.includes(":") ? { kind: "run", id: r.slice(0, r.lastIndexOf(":")), branch: r.slice(r.lastIndexOf(":") + 1) } : { kind: "run", id: r, branch: String(p.values.branch) }));
  return { format: ENSEMBLE_FORMAT, members: sources.map((source) => ({ name: "", source })), params: { weights: sources.map(() => 1), minSimilarity, min2: true }, k: 50, inb: 0, phash: false, scores: {} };
}

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("predict", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]} (options start with --)`);
    const out = path.resolve(required(p, "out"));
    const spec = specOf(p);
    await initBackend({ backend: stringFlag(p, "backend") ?? env.backend });
    const csv = String(p.values.csv);
    const ds = await loadDataset(path.resolve(stringFlag(p, "dataset") ?? env.dataset), { csv, imageDir: stringFlag(p, "images") ?? `${path.basename(csv, ".csv")}_images`, minGroupSize: 1, labels: "optional" });
    const n = ds.listings.length;
    const k = Math.min(spec.k, n);
    const members = await buildMembers(ds, spec.members.map((m) => m.source), { runsDir: stringFlag(p, "runs-dir") ?? env.runsDir, mode: "predict", k, inb: spec.inb, engine: "auto", withAll: p.values["with-all"] === true });
    // each posting its own group: the pair table's labels only matter for tuning, not for matching
    const table = buildPairTable(members, Int32Array.from({ length: n }, (_, i) => i));
    let sets = pairTableMatches(table, spec.params);
    if (spec.phash) sets = combineMatches([sets, exactKeyMatches(ds.listings.map((l) => l.imagePhash))], "union");
    const ids = ds.listings.map((l) => l.postingId);
    writeSubmission(out, ids, sets);
    const f1 = ds.hasLabels ? matchScores(sets, labelCodes(ds.listings).codes).f1 : null;
    console.error(`wrote ${out}: ${n} postings, ${(sets.reduce((a, s) => a + s.length, 0) / Math.max(1, n)).toFixed(2)} matches each, members ${members.map((m) => m.name).join(", ")}, match at ${formatThreshold(similarityThreshold(spec.params.minSimilarity))}${f1 === null ? "" : `; F1 against its label_group ${f1.toFixed(4)}`}`);
    if (p.values.json) console.log(JSON.stringify({ out, postings: n, members: members.map((m) => m.name), minSimilarity: spec.params.minSimilarity, f1 }));
    return 0;
  },
};
