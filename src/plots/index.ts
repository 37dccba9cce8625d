// The public surface of src/plots: pure plotly figure specs ({data, layout}), no DOM, no tfjs.
export * from "./bar";
export * from "./box";
export * from "./heatmap";
export * from "./histogram";
export * from "./line";
export * from "./scatter";
export * from "./stats";
export * from "./theme";
export * from "./types";
