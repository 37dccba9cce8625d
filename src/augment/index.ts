// The public surface of src/augment: one file per transform, compose(), and the spec registry.
export * from "./transform";
export { cropResize } from "./sample";
export * from "./random_resized_crop";
export * from "./center_crop";
export * from "./resize";
export * from "./flip";
export * from "./rotate";
export * from "./color_jitter";
export * from "./cutout";
export * from "./normalize";
export * from "./compose";
export * from "./batch";
