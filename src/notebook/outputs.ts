/**
 * Pure builders of Jupyter output bundles (mime type → data) for figures and the one-off
 * plotly.js library output, plus the "inject once per kernel session" bookkeeping. No tslab
 * here: src/notebook/display.ts sends these bundles to the kernel.
 *
 * How a figure survives save, reopen and HTML export: the first `show()` of a kernel session
 * emits an extra text/html output whose `<script>` defines `window.Plotly` from the inlined
 * bundled source. Every figure output is a `<div>` plus a small script that waits (polls) for
 * `window.Plotly`, so it renders whatever order outputs are rendered in (JupyterLab renders
 * lazily). Figures also carry `application/vnd.plotly.v1+json` for frontends with a plotly
 * renderer (JupyterLab with plotly's extension, VS Code).
 */
import type { Figure, PlotJson } from "../plots/types";
import { PLOTLY_SIGNATURE } from "./plotly_source";

/** A Jupyter display bundle: data by mime type, plus metadata. */
export interface MimeBundle {
  data: Record<string, string | PlotJson>;
  metadata: Record<string, PlotJson>;
}

/** The plotly mime type JupyterLab/VS Code renderers understand. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that is safe inside an HTML `<script>` element (no `</script>`, no `<!--`, no line separators). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The output that carries plotly.js itself: emitted once per kernel session (see {@link PlotlyInjector}). */
export function plotlyLibraryBundle(source: string, version: string): MimeBundle {
  // `module`/`exports`/`define` are shadowed so the bundle takes its browser-global branch even
  // where require.js (classic Notebook, nbconvert's template) or a CommonJS shim is present.
  const html =
    `<div class="matchlab-plotly-library" data-plotly-version="${escapeHtmlText(version)}" style="display:none"></div>\n` +
    '<script type="text/javascript">\n' +
    "if (!(window.Plotly && window.Plotly.newPlot)) { (function (module, exports, define) {\n" +
    source +
    "\n}).call(window); }\n" +
    "</script>";
  return {
    data: { "text/html": html, "text/plain": `[plotly.js ${version} inlined for this notebook's figures]` },
    metadata: { matchlab: { plotly: "library", version } },
  };
}

/** Options for {@link figureBundle}. */
export interface FigureBundleOptions {
  /** The figure's element id (unique in the page). */
  id: string;
  /** Also emit the `application/vnd.plotly.v1+json` mime type. Defaults to true. */
  plotlyMime?: boolean;
}

/** A one-line description of a figure (its text/plain fallback). */
export function describeFigure(fig: Figure): string {
  const title = fig.layout.title as { text?: string } | string | undefined;
  const t = typeof title === "string" ? title : title?.text;
  const kinds = [...new Set(fig.data.map((d) => d.type))].join(", ");
  return `<Figure${t ? ` "${t}"` : ""}: ${fig.data.length} trace${fig.data.length === 1 ? "" : "s"} (${kinds})>`;
}

/** The output bundle of one figure: a div plus a script that draws it once `window.Plotly` exists. */
export function figureBundle(fig: Figure, opts: FigureBundleOptions): MimeBundle {
  const { id, plotlyMime = true } = opts;
  if (!Array.isArray(fig?.data) || typeof fig?.layout !== "object" || fig.layout === null) {
    throw new Error("show: expected a figure {data: Trace[], layout: {…}} (build one with the src/plots functions)");
  }
  const height = typeof fig.layout.height === "number" ? fig.layout.height : 360;
  const width = typeof fig.layout.width === "number" ? `${fig.layout.width}px` : "100%";
  const spec = { data: fig.data, layout: fig.layout, config: fig.config ?? { responsive: true, displaylogo: false } };
  const html =
    `<div id="${escapeHtmlText(id)}" class="matchlab-figure" style="width:${width};height:${height}px;"></div>\n` +
    '<script type="text/javascript">\n' +
    "(function () {\n" +
    `  var id = ${scriptJson(id)}, fig = ${scriptJson(spec)};\n` +
    "  var el = document.currentScript && document.currentScript.previousElementSibling;\n" +
    "  if (!el || el.id !== id) el = null;\n" +
    "  var tries = 0;\n" +
    "  function draw() {\n" +
    "    el = el || document.getElementById(id);\n" +
    "    var ready = window.Plotly && window.Plotly.newPlot;\n" +
    "    if (el && el.isConnected && ready) {\n" +
    "      if (el.getAttribute('data-waiting')) { el.textContent = ''; el.removeAttribute('data-waiting'); }\n" +
    "      window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);\n" +
    "      return;\n" +
    "    }\n" +
    "    tries += 1;\n" +
    "    if (el && tries === 50) {\n" +
    "      el.setAttribute('data-waiting', '1');\n" +
    "      el.textContent = 'Waiting for plotly.js. It is inlined in the output of the first cell that showed a figure; ' +\n" +
    "        'if that output was cleared, re-run the notebook (or call showPlotlyLibrary()).';\n" +
    "    }\n" +
    "    setTimeout(draw, tries < 100 ? 100 : 1000);\n" +
    "  }\n" +
    "  draw();\n" +
    "})();\n" +
    "</script>";
  const data: MimeBundle["data"] = { "text/html": html, "text/plain": describeFigure(fig) };
  if (plotlyMime) data[PLOTLY_MIME] = JSON.parse(JSON.stringify(spec)) as PlotJson;
  return { data, metadata: { matchlab: { plotly: "figure", id } } };
}

/**
 * "Inject plotly.js once per session": hands out the bundles for each shown figure, prefixed by
 * the library bundle the first time (and again after {@link PlotlyInjector.reset}).
 */
export class PlotlyInjector {
  private injected = false;
  private count = 0;

  constructor(
    private readonly library: () => { source: string; version: string },
    private readonly nonce: string,
  ) {}

  /** Whether the library has been emitted in this session. */
  get libraryShown(): boolean {
    return this.injected;
  }

  /** The bundles to display for one figure. */
  bundles(fig: Figure, opts: Omit<FigureBundleOptions, "id"> = {}): MimeBundle[] {
    const out: MimeBundle[] = [];
    const fb = figureBundle(fig, { ...opts, id: `mlfig-${this.nonce}-${++this.count}` });
    if (!this.injected) out.push(this.libraryBundle());
    out.push(fb);
    return out;
  }

  /** The library bundle, marking the library as shown. */
  libraryBundle(): MimeBundle {
    const { source, version } = this.library();
    this.injected = true;
    return plotlyLibraryBundle(source, version);
  }

  /** Forgets that the library was shown: the next figure carries it again. */
  reset(): void {
    this.injected = false;
  }
}

/** Creates a {@link PlotlyInjector}. */
export function plotlyInjector(library: () => { source: string; version: string }, nonce: string): PlotlyInjector {
  return new PlotlyInjector(library, nonce);
}

/** Counts the inlined copies of plotly.js in a text (an .ipynb or exported HTML). */
export function countPlotlyCopies(text: string): number {
  return text.split(PLOTLY_SIGNATURE).length - 1;
}
