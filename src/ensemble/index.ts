// The public surface of src/ensemble.
export * from "./pair_table";
export * from "./optimize";
export * from "./tune";
export * from "./tuner";
export * from "./spec";
