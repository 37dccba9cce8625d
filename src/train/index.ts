// The public surface of src/train: the task table, the one run driver, the loop, callbacks,
// checkpoints and resume, schedules, samplers, the run registry, studies and validate-pending.
export * from "./callbacks";
export * from "./checkpoint";
export * from "./config";
export * from "./learner";
export * from "./model";
export * from "./optimizer";
export * from "./registry";
export * from "./run";
export * from "./sampler";
export * from "./schedule";
export * from "./study";
export * from "./tasks/index";
export * from "./validate_pending";
