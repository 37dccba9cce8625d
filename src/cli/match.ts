/**
 * `matchlab match`: from embeddings (runs' and cvs' out-of-fold files, or .f32 files) and baseline
 * branches to a competition submission (`posting_id,matches`, matches space-separated, each posting
 * matching itself), written atomically; with --save-ensemble, the rule for `matchlab predict`.
 *
 * Each embedding source is a branch; optional branches: TF-IDF titles (--tfidf) and exact phash
 * (--phash, unioned in). The branches are combined by weighted cosine-similarity averaging over the
 * union of their top-k: a pair matches when its weighted similarity is ≥ --min-similarity (or,
 * equivalently, its weighted cosine distance is ≤ --max-distance; give one), optionally also when
 * one branch's own similarity is ≥ its --branch-min-similarities entry. With --tune, weights and
 * similarity thresholds are tuned on the dataset's label_group (out-of-fold embeddings), and the
 * nested-CV F1 is printed twice: with each fold its own gallery, and with the whole set as one
 * gallery (as a test set is), with the threshold each tunes.
 */
import path from "node:path";
import { labelCodes, loadDataset, requireLabels, writeSubmission } from "../data/index";
import { buildPairTable, crossValidateEnsemble, ENSEMBLE_FORMAT, type EnsembleParams, ensembleReport, type MemberSource, type OptimizerName, pairTableMatches, scorePairTable, tuneEnsemble, writeEnsembleSpec } from "../ensemble/index";
import { env } from "../env";
import { groupKFold } from "../folds/index";
import { matchScores } from "../metrics/index";
import { asSimilarity, combineMatches, exactKeyMatches, formatThreshold, type KnnEngineName, type KnnResult, knnWithinFolds, similarityThreshold, sparseKnn } from "../retrieval/index";
import { cvFoldAssignment, readCv } from "../train/cv";
import { type BuiltMember, buildMembers } from "../train/members";
import { type Command, type FlagSpec, intFlag, parseFlags, stringFlag, thresholdFlags, UsageError } from "./common";

const SUMMARY = "match postings from embeddings (runs or .f32 files) and write a posting_id,matches submission";

/** The combined similarity threshold when neither --min-similarity nor --max-distance is given. */
const DEFAULT_MIN_SIMILARITY = 0.5;

/** Flags that were renamed, with what to use instead. */
const RENAMED: Record<string, string> = {
  threshold: "--threshold was a cosine similarity: use --min-similarity (or --max-distance = 1 − similarity)",
  "branch-thresholds": "--branch-thresholds were cosine similarities: use --branch-min-similarities",
};

const FLAGS: Record<string, FlagSpec> = {
  runs: { type: "string", help: "run or cv ids (or folders), comma-separated, each optionally :branch (default --branch): their out-of-fold embeddings oof/<branch>.f32" },
  branch: { type: "string", help: "the branch of --runs members without :branch (image|text|fused)", default: "fused" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  "save-ensemble": { type: "string", help: "write the rule (members, weights, thresholds, union, INB, min-2, phash) to this ensemble.json for matchlab predict" },
  embeddings: { type: "string", help: "embedding .f32 files, comma-separated (sidecar NAME.json with dim/postingIds, or --dim)" },
  dim: { type: "string", help: "row width for .f32 files without a sidecar" },
  dataset: { type: "string", help: "dataset folder (train.csv)", default: "<env.dataset>" },
  csv: { type: "string", help: "CSV inside the dataset folder", default: "train.csv" },
  baseline: { type: "boolean", help: "add the baseline branches computed from the data: 16 px thumbnails (pixels) and title character n-grams (chars)" },
  tfidf: { type: "boolean", help: "add a TF-IDF title branch" },
  phash: { type: "boolean", help: "union in exact image_phash matches" },
  k: { type: "string", help: "neighbours per posting per branch", default: "50" },
  engine: { type: "string", help: "exact kNN engine: auto|onnx|tfjs|js", default: "auto" },
  inb: { type: "string", help: "neighbourhood-blending stages per embedding branch", default: "0" },
  weights: { type: "string", help: "branch weights, comma-separated (default: equal)" },
  "min-similarity": { type: "string", help: `match when the weighted cosine similarity is ≥ this (default: ${DEFAULT_MIN_SIMILARITY}); not with --max-distance` },
  "max-distance": { type: "string", help: "match when the weighted cosine distance (1 − similarity) is ≤ this; not with --min-similarity" },
  "branch-min-similarities": { type: "string", help: "per-branch union: also match when that branch's own cosine similarity is ≥ this; comma-separated, 'off' leaves a branch out" },
  "no-min2": { type: "boolean", help: "do not force at least one match besides self" },
  tune: { type: "string", help: "tune weights + similarity thresholds on label_group: grid|coordinate|nelder-mead" },
  "tune-gallery": { type: "string", help: "with --tune: tune on the whole set as one gallery (full, as the test set will be) or with each fold its own gallery (folds); both are reported", default: "full" },
  union: { type: "boolean", help: "with --tune: also tune per-branch union similarity thresholds" },
  report: { type: "boolean", help: "with --tune: print the nested-CV F1 of every branch combination (JSON lines)" },
  folds: { type: "string", help: "with --tune: GroupKFold folds for the nested CV F1 when no member is a cv (with a cv member, the folds it trained on)", default: "5" },
  out: { type: "string", help: "submission CSV to write (without it, match only scores: stderr, --json, --save-ensemble)" },
  json: { type: "boolean", help: "print a JSON summary line" },
};

function list(v: unknown): string[] {
  return typeof v === "string"
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

function numberList(v: unknown, flag: string, allowOff = false): Array<number | null> {
  return list(v).map((s) => {
    if (allowOff && s === "off") return null;
    const x = Number(s);
    if (!Number.isFinite(x)) throw new UsageError(`--${flag}: ${s} is not a number${allowOff ? " or off" : ""}`);
    return x;
  });
}

/** A member's neighbour lists recomputed within folds (dense: exact kNN per fold; TF-IDF: sparse kNN per fold). */
async function withinFolds(m: BuiltMember, folds: Int32Array, k: number, engine: KnnEngineName | "auto"): Promise<KnnResult> {
  if (m.embeddings) return knnWithinFolds(m.embeddings.data, m.embeddings.dim, folds, { k, engine, label: `knn ${m.name} (folds)` });
  if (m.sparse) return sparseKnn(m.sparse, { k, folds, label: null });
  throw new Error(`branch ${m.name} cannot be searched within folds`);
}

/** The `match` command. */
export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    for (const a of argv) {
      const old = a.startsWith("--") ? RENAMED[a.slice(2).split("=")[0]!] : undefined;
      if (old) throw new UsageError(`${old} (see matchlab match --help)`);
    }
    const p = parseFlags("match", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]} (matchlab match takes only options; see --help)`);
    const outFlag = stringFlag(p, "out");
    const out = outFlag === undefined ? null : path.resolve(outFlag);
    const k = intFlag(p, "k", 50);
    const inb = intFlag(p, "inb", 0);
    const engine = String(p.values.engine) as KnnEngineName | "auto";
    if (!["auto", "onnx", "tfjs", "js"].includes(engine)) throw new UsageError(`unknown engine: ${engine} (expected auto|onnx|tfjs|js)`);
    const tune = p.values.tune as string | undefined;
    if (tune !== undefined && !["grid", "coordinate", "nelder-mead"].includes(tune)) throw new UsageError(`unknown --tune method: ${tune} (expected grid|coordinate|nelder-mead)`);
    if (tune !== undefined) {
      for (const f of ["weights", "min-similarity", "max-distance", "branch-min-similarities"]) {
        if (p.values[f] !== undefined) throw new UsageError(`--${f} is what --tune ${tune} tunes: give one of them`);
      }
    }
    // checked before any loading: both flags given, or a non-number, fails fast
    const combined = tune === undefined ? thresholdFlags(p, DEFAULT_MIN_SIMILARITY) : null;
    const dsDir = p.values.dataset === FLAGS.dataset!.default ? env.dataset : path.resolve(String(p.values.dataset));
    const ds = await loadDataset(dsDir, { csv: String(p.values.csv), checkImages: false, minGroupSize: 1, labels: "optional" });
    const ids = ds.listings.map((l) => l.postingId);
    const n = ids.length;
    const dim = p.values.dim === undefined ? undefined : intFlag(p, "dim", 0);

    const runsDir = typeof p.values["runs-dir"] === "string" ? p.values["runs-dir"] : env.runsDir;
    const branch = String(p.values.branch);
    const sources: MemberSource[] = [
      ...list(p.values.runs).map((r): MemberSource => {
        const [id, b] = r.includes(":") ? [r.slice(0, r.lastIndexOf(":")), r.slice(r.lastIndexOf(":") + 1)] : [r, branch];
        return { kind: "run", id, branch: b };
      }),
      ...list(p.values.embeddings).map((f): MemberSource => ({ kind: "file", file: path.resolve(f) })),
      ...(p.values.baseline ? [{ kind: "pixels" } as const, { kind: "chars" } as const] : []),
      ...(p.values.tfidf ? [{ kind: "tfidf" } as const] : []),
    ];
    if (sources.length === 0) throw new UsageError("nothing to match: give --runs, --embeddings, --baseline or --tfidf");
    const members = await buildMembers(ds, sources, { runsDir, mode: "oof", k, engine, inb, dim });
    const M = members.length;
    const labels = labelCodes(ds.listings).codes;

    let params: EnsembleParams;
    const scores: Record<string, number | null> = {};
    if (tune) {
      requireLabels(ds, "matchlab match --tune", "it tunes weights and thresholds against the groups");
      const gallery = String(p.values["tune-gallery"]);
      if (gallery !== "full" && gallery !== "folds") throw new UsageError(`--tune-gallery must be full or folds, got ${gallery}`);
      // nested CV over the folds the first cv member trained on (each fold gallery then holds one fold
      // model's rows), else grouped folds
      const cvMember = sources.find((m) => m.kind === "run" && readCv(runsDir, m.id) !== null) as { id: string } | undefined;
      const trained = cvMember ? cvFoldAssignment(runsDir, cvMember.id, ds.listings.map((l) => l.postingId)) : null;
      if (trained?.includes(-1)) throw new UsageError(`cv ${cvMember!.id} did not validate every posting of ${ds.csvPath} (was it trained on this dataset?)`);
      const folds = trained ?? groupKFold(Array.from(labels), { k: intFlag(p, "folds", 5) }).assignment;
      const kf = new Set(folds).size;
      if (trained) console.error(`nested CV over the ${kf} folds cv ${cvMember!.id} trained on`);
      const method = tune as OptimizerName;
      const union = !!p.values.union;
      // each fold its own gallery: candidates never cross folds (grouped CV as the folds trained)
      const cvMembers = await Promise.all(members.map(async (m) => ({ ...m, neighbours: await withinFolds(m, folds, k, engine) })));
      const foldTable = buildPairTable(cvMembers, labels, { folds });
      // the whole set as one gallery (as at test time), with the same folds over groups for nested CV
      const fullTable = { ...buildPairTable(members, labels), folds: Int32Array.from(folds) };
      if (p.values.report) {
        for (const r of ensembleReport(foldTable, { methods: [method], withUnion: true })) console.log(JSON.stringify({ combination: r.combination, method: r.method, cvF1: r.cvF1, f1: r.f1 }));
      }
      const cvFolds = crossValidateEnsemble(foldTable, { method, union });
      const cvFull = crossValidateEnsemble(fullTable, { method, union });
      const byFolds = tuneEnsemble(foldTable, { method, union }).params;
      const byFull = tuneEnsemble(fullTable, { method, union }).params;
      params = gallery === "full" ? byFull : byFolds;
      Object.assign(scores, {
        cv_f1_fold_galleries: cvFolds.cvF1,
        cv_f1_full_gallery: cvFull.cvF1,
        min_similarity_fold_galleries: byFolds.minSimilarity,
        min_similarity_full_gallery: byFull.minSimilarity,
        fold_rule_on_full_gallery_f1: scorePairTable(fullTable, { ...byFolds, min2: !p.values["no-min2"] }).f1,
      });
      console.error(
        [
          `tuned (${method}, ${gallery} gallery): weights ${params.weights.map((w) => w.toFixed(3)).join(", ")}; match at ${formatThreshold(similarityThreshold(params.minSimilarity))}`,
          `nested ${kf}-fold CV F1: ${cvFolds.cvF1.toFixed(4)} with each fold its own gallery, ${cvFull.cvF1.toFixed(4)} in the whole set as one gallery`,
          `threshold drift: tuned per fold gallery ${formatThreshold(similarityThreshold(byFolds.minSimilarity))}, in the whole gallery ${formatThreshold(similarityThreshold(byFull.minSimilarity))}; the fold-tuned rule scores ${scores.fold_rule_on_full_gallery_f1!.toFixed(4)} on the whole gallery`,
        ].join("\n"),
      );
    } else {
      const w = numberList(p.values.weights, "weights") as number[];
      if (w.length && w.length !== M) throw new UsageError(`--weights has ${w.length} values for ${M} branches (${members.map((m) => m.name).join(", ")})`);
      const bt = numberList(p.values["branch-min-similarities"], "branch-min-similarities", true);
      if (bt.length && bt.length !== M) throw new UsageError(`--branch-min-similarities has ${bt.length} values for ${M} branches (${members.map((m) => m.name).join(", ")})`);
      const minSimilarity = asSimilarity(combined!);
      params = { weights: w.length ? w : new Array<number>(M).fill(1), minSimilarity, branchMinSimilarities: bt.length ? bt : new Array<number | null>(M).fill(null) };
    }
    params.min2 = !p.values["no-min2"];
    const table = buildPairTable(members, labels);
    let sets = pairTableMatches(table, params);
    if (p.values.phash) sets = combineMatches([sets, exactKeyMatches(ds.listings.map((l) => l.imagePhash))], "union");
    if (out) writeSubmission(out, ids, sets);
    const f1 = ds.hasLabels ? matchScores(sets, labels).f1 : null;
    scores.f1_in_sample = f1;
    console.error(`${out ? `wrote ${out}` : "matched"}: ${n} postings, ${(sets.reduce((a, s) => a + s.length, 0) / Math.max(1, n)).toFixed(2)} matches each${f1 === null ? "" : `; F1 against label_group ${f1.toFixed(4)} (in-sample)`}`);
    const save = typeof p.values["save-ensemble"] === "string" ? path.resolve(p.values["save-ensemble"]) : null;
    if (save) {
      writeEnsembleSpec(save, { format: ENSEMBLE_FORMAT, members: members.map((m) => ({ name: m.name, source: m.source })), params, k, inb, phash: !!p.values.phash, scores });
      console.error(`saved the ensemble rule to ${save} (apply it to a test set with matchlab predict --ensemble ${path.relative(process.cwd(), save) || save})`);
    }
    if (p.values.json) console.log(JSON.stringify({ out, postings: n, branches: members.map((m) => m.name), params, f1, cvF1: scores.cv_f1_full_gallery ?? null, scores, ensemble: save }));
    return 0;
  },
};
