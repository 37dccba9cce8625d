// The public surface of src/models.
export {};
