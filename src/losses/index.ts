// The public surface of src/losses.
export {};
