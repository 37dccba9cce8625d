// The public surface of src/data.
export * from "./holdout";
export * from "./image_bytes";
export * from "./labels";
export { parseCsv, formatCsv, csvField, CsvError } from "./csv";
export type { CsvTable } from "./csv";
export * from "./image";
export * from "./dataset";
export * from "./emoji/index";
export * from "./stats";
export * from "./submission";
export * from "./text";
export * from "./loader";
export type { BatchTask } from "./loader_task";
