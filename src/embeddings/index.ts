// The public surface of src/embeddings.
export {};
