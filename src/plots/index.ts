// The public surface of src/plots.
export {};
