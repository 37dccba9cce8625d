// The public surface of src/metrics.
export {};
