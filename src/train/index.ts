// The public surface of src/train: the task table, the one run driver, the loop, callbacks,
// checkpoints and resume (and checkpoint-on-signal), Slurm job arrays, schedules, samplers, the run registry, studies, validate-pending, and the
// competition loop (out-of-fold embeddings, cv records, ensemble members, predict).
export * from "./augment_source";
export * from "./callbacks";
export * from "./checkpoint";
export * from "./config";
export * from "./cv";
export * from "./divergence";
export * from "./learner";
export * from "./members";
export * from "./model";
export * from "./oof";
export * from "./optimizer";
export * from "./predict";
export * from "./registry";
export * from "./run";
export * from "./sampler";
export * from "./schedule";
export * from "./signals";
export * from "./slurm";
export * from "./study";
export * from "./tasks/index";
export * from "./validate_pending";
