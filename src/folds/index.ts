// The public surface of src/folds.
export {};
