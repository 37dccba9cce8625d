// The public surface of src/augment.
export {};
