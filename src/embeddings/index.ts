// The public surface of src/embeddings.
export * from "./pooling";
export * from "./encoder";
export * from "./cache";
export * from "./content_key";
export * from "./hf";
export * from "./mobilenet";
export * from "./use_lite";
export * from "./registry";
export * from "./embed";
export * from "./tf_backend";
export * from "./dataset";
export * from "./features";
export * from "./pca";
