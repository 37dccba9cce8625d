// The public surface of src/folds: splitters returning {train, valid} index pairs, leakage checks, saving.
// Unshuffled, kFold / stratifiedKFold / groupKFold / stratifiedGroupKFold give exactly the fold
// assignments of scikit-learn's KFold / StratifiedKFold / GroupKFold / StratifiedGroupKFold
// (checked against scikit-learn 1.2.1 + numpy 1.24 on random cases in test/folds/sklearn.test.ts).
// With shuffle they are seeded from Rng and do not try to reproduce numpy's random streams.
export * from "./types";
export * from "./kfold";
export * from "./stratified_kfold";
export * from "./group_kfold";
export * from "./stratified_group_kfold";
export * from "./unseen_label";
export * from "./leakage";
export * from "./io";
export * from "./make_folds";
export { argsortNumpy, pairwiseSum, uniqueInverse } from "./numpy_compat";
export type { LabelValue } from "./numpy_compat";
export * from "./summary";
export * from "./holdout";
