// The public surface of src/imbalance: class-count analysis, the class-balanced sampler, per-class
// views, the classification task (labels, metrics.csv rows, trainer) and grid studies over folds.
export * from "./classify";
export * from "./classify_run";
export * from "./config";
export * from "./counts";
export * from "./features";
export * from "./sampler";
export * from "./study";
export * from "./trainer";
export * from "./views";
