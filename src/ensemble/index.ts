// The public surface of src/ensemble.
export {};
