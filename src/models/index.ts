// The public surface of src/models.
export * from "./layers";
export * from "./multimodal";
export * from "./pooling";
export * from "./resnet";
export * from "./seeds";
export * from "./text";
export * from "./ref_cnn";
export * from "./mobilenet_v2";
export * from "./fused_layers";
