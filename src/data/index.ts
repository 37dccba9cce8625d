// The public surface of src/data.
export {};
