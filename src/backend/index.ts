// The public surface of src/backend.
export {};
