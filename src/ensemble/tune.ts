/**
 * Tuning ensembles on out-of-fold pair tables: weights, the combined similarity threshold
 * (`minSimilarity`) and (optionally) per-branch union similarity thresholds
 * (`branchMinSimilarities`), by grid, coordinate ascent or Nelder–Mead; an honest CV F1 by tuning
 * on the other folds and scoring each held-out fold; and a report over member combinations.
 */
import { type MaximizeOptions, type OptimizerName, type ParamSpec, maximize } from "./optimize";
import { type EnsembleParams, type EnsembleScore, type PairTable, scorePairTable } from "./pair_table";

/** Options for {@link tuneEnsemble}. */
export interface TuneOptions {
  /** Optimiser. Defaults to `coordinate`. */
  method?: OptimizerName;
  /** Member indices to use; the others get weight 0. Defaults to all members. */
  members?: number[];
  /** Also tune one union similarity threshold per used member (the 1st place's "union of concat, image and text"). Defaults to false. */
  union?: boolean;
  /** Range the similarity thresholds (`minSimilarity`, `branchMinSimilarities`) are searched in. Defaults to [0, 1]. */
  similarityRange?: [number, number];
  /** Grid points per parameter (grid and coordinate ascent). Defaults to 11; the grid uses fewer when steps^params would exceed its budget (optimizer.maxEvals, default 4000). */
  steps?: number;
  /** Score only postings with include[i] = 1. Defaults to all. */
  include?: Uint8Array | null;
  /** Apply min-2. Defaults to true. */
  min2?: boolean;
  /** Extra optimiser options. */
  optimizer?: Omit<MaximizeOptions, "method">;
}

/** A tuned rule and its (in-sample) score. */
export interface TunedEnsemble {
  params: EnsembleParams;
  score: EnsembleScore;
  evals: number;
  method: OptimizerName;
  members: string[];
}

/**
 * Tunes weights and similarity thresholds to maximise mean match F1 on the pair table.
 * @example const best = tuneEnsemble(table, { method: "nelder-mead", union: true });
 */
export function tuneEnsemble(table: PairTable, opts: TuneOptions = {}): TunedEnsemble {
  const { method = "coordinate", union = false, similarityRange = [0, 1], include = null, min2 = true, optimizer = {} } = opts;
  if ("thresholdRange" in opts) throw new Error("tuneEnsemble: the option `thresholdRange` is now `similarityRange` (similarities: match when ≥)");
  const M = table.sims.length;
  const used = opts.members ?? table.names.map((_, i) => i);
  if (used.length === 0) throw new Error("tuneEnsemble: no members selected");
  for (const m of used) if (!(m >= 0 && m < M)) throw new Error(`tuneEnsemble: member ${m} out of range (table has ${M}: ${table.names.join(", ")})`);
  const [tlo, thi] = similarityRange;
  const d = used.length + (union ? used.length : 0);
  // the grid's size is steps^d: shrink the steps so it stays within the evaluation budget
  const gridBudget = optimizer.maxEvals ?? 4000;
  const steps = method === "grid" ? Math.max(2, Math.min(opts.steps ?? 11, Math.floor(gridBudget ** (1 / d) + 1e-9))) : (opts.steps ?? 11);
  // weights: the first used member is fixed at 1 (the scale is irrelevant), the rest in [0, 2]
  const space: ParamSpec[] = [];
  for (const m of used.slice(1)) space.push({ name: `w:${table.names[m]}`, lo: 0, hi: 2, steps });
  space.push({ name: "minSimilarity", lo: tlo, hi: thi, steps });
  // a union similarity threshold above the range switches that member's union off
  if (union) for (const m of used) space.push({ name: `minSimilarity:${table.names[m]}`, lo: tlo, hi: thi + 0.05, steps });
  const decode = (x: number[]): EnsembleParams => {
    const weights = new Array<number>(M).fill(0);
    weights[used[0]!] = 1;
    used.slice(1).forEach((m, i) => {
      weights[m] = x[i]!;
    });
    const minSimilarity = x[used.length - 1]!;
    const branchMinSimilarities: Array<number | null> = new Array<number | null>(M).fill(null);
    if (union) {
      used.forEach((m, i) => {
        branchMinSimilarities[m] = x[used.length + i]! > thi ? null : x[used.length + i]!;
      });
    }
    return { weights, minSimilarity, branchMinSimilarities, min2 };
  };
  const start = space.map((p) => (p.name.startsWith("w:") ? 1 : p.name.startsWith("minSimilarity:") ? p.hi : (p.lo + p.hi) / 2));
  const r = maximize((x) => scorePairTable(table, decode(x), include).f1, space, { maxEvals: method === "grid" ? gridBudget : 1500, start, ...optimizer, method });
  const params = decode(r.x);
  return { params, score: scorePairTable(table, params, include), evals: r.evals, method, members: used.map((m) => table.names[m]!) };
}

/** Per-fold and pooled out-of-fold scores of a tuning procedure. */
export interface CrossValidatedScore {
  /** Mean F1 over all postings, each scored by the rule tuned without its fold. */
  cvF1: number;
  perFold: Array<{ fold: number; f1: number; count: number; params: EnsembleParams }>;
}

/**
 * Nested CV: for each fold, tunes on the other folds' postings and scores the held-out fold.
 * With a single fold, falls back to tuning and scoring on all postings (in-sample).
 */
export function crossValidateEnsemble(table: PairTable, opts: Omit<TuneOptions, "include"> = {}): CrossValidatedScore {
  const folds = [...new Set(Array.from(table.folds))].sort((a, b) => a - b);
  if (folds.length < 2) {
    const t = tuneEnsemble(table, opts);
    return { cvF1: t.score.f1, perFold: [{ fold: folds[0] ?? 0, f1: t.score.f1, count: t.score.count, params: t.params }] };
  }
  const perFold: CrossValidatedScore["perFold"] = [];
  let total = 0;
  let count = 0;
  for (const f of folds) {
    const train = Uint8Array.from(table.folds, (x) => (x !== f ? 1 : 0));
    const test = Uint8Array.from(table.folds, (x) => (x === f ? 1 : 0));
    const t = tuneEnsemble(table, { ...opts, include: train });
    const s = scorePairTable(table, t.params, test);
    perFold.push({ fold: f, f1: s.f1, count: s.count, params: t.params });
    total += s.f1 * s.count;
    count += s.count;
  }
  return { cvF1: count > 0 ? total / count : 0, perFold };
}

/** One row of {@link ensembleReport}. */
export interface EnsembleReportRow {
  /** Member names joined by "+", with " ∪" when union similarity thresholds were tuned. */
  combination: string;
  method: OptimizerName;
  /** F1 with parameters tuned on all postings (optimistic). */
  f1: number;
  /** Nested-CV F1 (tuned without each scored fold). */
  cvF1: number;
  weights: number[];
  /** The tuned combined similarity threshold (match when the weighted similarity is ≥ this). */
  minSimilarity: number;
  /** The tuned per-member union similarity thresholds (null: member not in the union). */
  branchMinSimilarities: Array<number | null>;
}

/** Options for {@link ensembleReport}. */
export interface EnsembleReportOptions {
  /** Optimisers to compare on the full ensemble. Defaults to ["coordinate"]. */
  methods?: OptimizerName[];
  /** Also report the full ensemble with union similarity thresholds. Defaults to true. */
  withUnion?: boolean;
  /** Tuning options shared by every row. */
  tune?: Omit<TuneOptions, "method" | "members" | "union" | "include">;
}

/**
 * CV F1 for every non-empty combination of members (each single member is a "branch"), then the
 * full ensemble per optimiser, with and without union similarity thresholds. Sorted by cvF1, best first.
 */
export function ensembleReport(table: PairTable, opts: EnsembleReportOptions = {}): EnsembleReportRow[] {
  const { methods = ["coordinate"], withUnion = true, tune = {} } = opts;
  const M = table.names.length;
  const rows: EnsembleReportRow[] = [];
  const add = (members: number[], method: OptimizerName, union: boolean) => {
    const o = { ...tune, method, members, union };
    const full = tuneEnsemble(table, o);
    const cv = crossValidateEnsemble(table, o);
    rows.push({
      combination: members.map((m) => table.names[m]).join("+") + (union ? " ∪" : ""),
      method,
      f1: full.score.f1,
      cvF1: cv.cvF1,
      weights: full.params.weights,
      minSimilarity: full.params.minSimilarity,
      branchMinSimilarities: full.params.branchMinSimilarities ?? [],
    });
  };
  for (let mask = 1; mask < 1 << M; mask++) {
    const members = table.names.map((_, i) => i).filter((i) => mask & (1 << i));
    add(members, methods[0] ?? "coordinate", false);
  }
  const all = table.names.map((_, i) => i);
  for (const m of methods.slice(1)) add(all, m, false);
  if (withUnion && M > 1) for (const m of methods) add(all, m, true);
  return rows.sort((a, b) => b.cvF1 - a.cvF1);
}
