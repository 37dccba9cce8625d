// The public surface of src/retrieval.
export {};
