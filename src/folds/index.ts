// The public surface of src/folds: splitters returning {train, valid} index pairs, leakage checks, saving.
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
