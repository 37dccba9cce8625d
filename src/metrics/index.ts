// The public surface of src/metrics.
export * from "./class_counts";
export * from "./classification";
export * from "./matching";
export * from "./per_class";
