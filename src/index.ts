/**
 * matchlab's one public surface: notebooks (`import * as ml from "./src"`) and the CLI import only this.
 * Layers, lowest first: backend, data, augment, folds, embeddings, models, heads, losses, train,
 * retrieval, metrics, ensemble, plots, notebook.
 */
export * from "./env";
export * from "./progress";
export * from "./rng";
export * from "./backend/index";
export * from "./data/index";
export * from "./augment/index";
export * from "./folds/index";
export * from "./embeddings/index";
export * from "./models/index";
export * from "./heads/index";
export * from "./losses/index";
export * from "./train/index";
export * from "./retrieval/index";
export * from "./metrics/index";
export * from "./ensemble/index";
export * from "./plots/index";
export * from "./notebook/index";
