// The public surface of src/losses: (embeddings | logits, labels) → per-sample losses; reducers separate.
export * from "./class_weights";
export * from "./cross_entropy";
export * from "./reduce";
export * from "./triplet";
