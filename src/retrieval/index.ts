// The public surface of src/retrieval.
export * from "./vectors";
export * from "./onnx_graph";
export * from "./knn";
export * from "./ann";
export * from "./match_rules";
export * from "./threshold";
export * from "./thresholds";
export * from "./tfidf";
export * from "./embedding_file";
export * from "./baseline_features";
