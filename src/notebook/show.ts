/** `show(fig)`: a plotly figure inline in the notebook, plotly.js inlined once per kernel session. */
import type { Figure } from "../plots/types";
import { displayBundle, notebookSession } from "./display";
import { type PlotlyInjector, plotlyInjector } from "./outputs";
import { plotlySource } from "./plotly_source";

/** Options for {@link show}. */
export interface ShowOptions {
  /** Also emit `application/vnd.plotly.v1+json` (used by JupyterLab's plotly extension and VS Code). Defaults to true. */
  plotlyMime?: boolean;
}

function injector(): PlotlyInjector {
  const s = notebookSession() as ReturnType<typeof notebookSession> & { plotly?: PlotlyInjector };
  s.plotly ??= plotlyInjector(plotlySource, s.nonce);
  return s.plotly;
}

/**
 * Shows a figure inline. The first call in a kernel session also emits plotly.js itself (read
 * from node_modules/plotly.js-dist, no network); later figures reuse it.
 * @example ml.show(ml.countsChart(sizes, { title: "group sizes", sort: "label" }))
 */
export function show(fig: Figure, opts: ShowOptions = {}): void {
  for (const b of injector().bundles(fig, opts)) displayBundle(b);
}

/**
 * Emits plotly.js again in the current cell: use it if the output that carried the library was
 * cleared (figures below then show "Waiting for plotly.js" after a reload).
 */
export function showPlotlyLibrary(): void {
  displayBundle(injector().libraryBundle());
}
