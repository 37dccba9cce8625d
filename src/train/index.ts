// The public surface of src/train: the loop, callbacks, checkpoints and resume, schedules, the run registry.
export * from "./callbacks";
export * from "./checkpoint";
export * from "./config";
export * from "./learner";
export * from "./optimizer";
export * from "./registry";
export * from "./run";
export * from "./schedule";
export * from "./task";
export * from "./validate_pending";
