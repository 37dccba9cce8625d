// The public surface of src/train.
export {};
