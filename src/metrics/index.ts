// The public surface of src/metrics.
export * from "./classification";
export * from "./matching";
