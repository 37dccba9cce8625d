/** `makeFolds(scheme, …)`: one entry point over every splitter, for the CLI and notebooks. */
import { env } from "../env";
import { groupKFold } from "./group_kfold";
import { kFold } from "./kfold";
import type { LabelValue } from "./numpy_compat";
import { stratifiedGroupKFold } from "./stratified_group_kfold";
import { stratifiedKFold } from "./stratified_kfold";
import { type FoldScheme, FoldsError, type FoldSplit, type SplitOptions } from "./types";
import { unseenLabelSplit } from "./unseen_label";

/** Inputs for {@link makeFolds}: the row count and the columns a scheme needs. */
export interface MakeFoldsOptions extends SplitOptions {
  /** Number of rows (kfold). Defaults to labels.length or groups.length. */
  n?: number;
  /** Per-row class labels (stratified, stratified-group). */
  labels?: ArrayLike<LabelValue>;
  /** Per-row groups (group, stratified-group, unseen). */
  groups?: ArrayLike<LabelValue>;
}

/** The fold schemes and what each needs. */
export const FOLD_SCHEMES: Readonly<Record<FoldScheme, { needs: Array<"labels" | "groups">; make: (o: MakeFoldsOptions) => FoldSplit; sklearn: string | null }>> = Object.freeze({
  kfold: { needs: [], make: (o) => kFold(o.n ?? o.labels?.length ?? o.groups?.length ?? 0, o), sklearn: "KFold" },
  stratified: { needs: ["labels"], make: (o) => stratifiedKFold(o.labels!, o), sklearn: "StratifiedKFold" },
  group: { needs: ["groups"], make: (o) => groupKFold(o.groups!, o), sklearn: "GroupKFold" },
  "stratified-group": { needs: ["labels", "groups"], make: (o) => stratifiedGroupKFold(o.labels!, o.groups!, o), sklearn: "StratifiedGroupKFold" },
  unseen: { needs: ["groups"], make: (o) => unseenLabelSplit(o.groups!, o), sklearn: null },
});

/** Parses a scheme name, throwing with the valid ones. */
export function parseFoldScheme(s: string): FoldScheme {
  if (Object.hasOwn(FOLD_SCHEMES, s)) return s as FoldScheme;
  throw new FoldsError(`unknown fold scheme: ${s} (expected ${Object.keys(FOLD_SCHEMES).join("|")})`);
}

/**
 * Makes folds with the named scheme.
 * @example makeFolds("unseen", { groups: ds.listings.map((l) => l.labelGroup), k: 5, seed: 0 })
 */
export function makeFolds(scheme: FoldScheme, opts: MakeFoldsOptions): FoldSplit {
  const s = FOLD_SCHEMES[parseFoldScheme(scheme)];
  for (const need of s.needs) if (!opts[need]) throw new FoldsError(`fold scheme ${scheme} needs ${need} (one per row)`);
  return s.make({ seed: env.seed, ...opts });
}

/**
 * A column's values for splitting: numbers when every value parses as a finite number (as pandas
 * would read it, so the sorted group order matches sklearn on `pd.read_csv`), else strings.
 */
export function columnForSplit(values: readonly string[]): LabelValue[] {
  const nums = values.map((v) => (v.trim() === "" ? Number.NaN : Number(v)));
  return nums.every((x) => Number.isFinite(x)) ? nums : [...values];
}
