// The public surface of src/heads.
export {};
