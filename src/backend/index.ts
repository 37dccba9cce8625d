// The public surface of src/backend.
export * from "./init_backend";
export * from "./wasm_kernels";
export * from "./fused_ops";
