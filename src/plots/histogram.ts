/** Histograms, binned here (shared edges), so overlaid series line up and specs stay small. */
import { type BinOptions, binCounts, binEdges, checkPlotValues, type HistNorm, normaliseCounts } from "./stats";
import { formatLabelNumber, paletteColor, type RefLine, refLines, themedConfig, themedLayout } from "./theme";
import type { Figure, FigureOptions, PlotNumbers } from "./types";

/** One named sample to histogram. */
export interface HistogramSeries {
  /** Legend name. */
  name: string;
  /** The values. */
  values: PlotNumbers;
  /** Bar colour. Defaults to the palette colour at the series' index. */
  color?: string;
}

/** How several series share the plot: drawn over each other (translucent), stacked, or side by side. */
export type HistogramMode = "overlay" | "stack" | "group";

/** Options for {@link histogramChart}. */
export interface HistogramOptions extends FigureOptions, BinOptions {
  /** Bar heights: counts, fractions, percentages or a density. Defaults to "count" ("probability" is usually better for overlays of unequal sizes). */
  histnorm?: HistNorm;
  /** Several series: overlay, stack or group. Defaults to "overlay". */
  mode?: HistogramMode;
  /** Bar opacity in overlay mode. Defaults to 0.6. */
  opacity?: number;
  /** Reference lines (a threshold, say). Defaults to none. */
  lines?: readonly RefLine[];
}

const MODES: readonly HistogramMode[] = Object.freeze(["overlay", "stack", "group"]);

/**
 * A histogram of one sample or of several overlaid ones (matched vs unmatched pair distances).
 * @example histogramChart([{ name: "matched", values: dPos }, { name: "unmatched", values: dNeg }], { histnorm: "probability", lines: [{ at: 0.4, label: "threshold" }] })
 */
export function histogramChart(input: PlotNumbers | readonly HistogramSeries[], opts: HistogramOptions = {}): Figure {
  const series: readonly HistogramSeries[] = isSeriesList(input) ? input : [{ name: "values", values: input }];
  if (series.length === 0) throw new Error("histogramChart: no series (expected at least one)");
  const { histnorm = "count", mode = "overlay", opacity = 0.6, lines = [] } = opts;
  if (!MODES.includes(mode)) throw new Error(`unknown histogram mode: ${mode} (expected ${MODES.join("|")})`);
  for (const s of series) checkPlotValues(s.values, `histogramChart series "${s.name}"`);
  const edges = binEdges(
    series.map((s) => s.values),
    opts,
  );
  const centers = edges.slice(0, -1).map((e, i) => (e + edges[i + 1]!) / 2);
  const widths = edges.slice(0, -1).map((e, i) => edges[i + 1]! - e);
  const ranges = edges.slice(0, -1).map((e, i) => `[${formatLabelNumber(e)}, ${formatLabelNumber(edges[i + 1]!)})`);
  const data = series.map((s, i) => ({
    type: "bar",
    name: `${s.name} (n=${s.values.length})`,
    x: centers,
    y: normaliseCounts(binCounts(s.values, edges), edges, histnorm),
    width: mode === "group" ? undefined : widths,
    customdata: ranges,
    hovertemplate: `${escapeTemplate(s.name)} %{customdata}: %{y}<extra></extra>`,
    marker: { color: s.color ?? paletteColor(i), line: { width: 0 } },
    opacity: mode === "overlay" && series.length > 1 ? opacity : 1,
  }));
  const yTitle = opts.yTitle ?? (histnorm === "count" ? "count" : histnorm);
  const { shapes, annotations } = refLines(lines);
  const layout = themedLayout({ ...opts, yTitle }, series.length, {
    barmode: mode,
    bargap: mode === "group" ? 0.1 : 0,
    shapes,
    annotations,
  });
  return { data, layout, config: themedConfig() };
}

function isSeriesList(x: PlotNumbers | readonly HistogramSeries[]): x is readonly HistogramSeries[] {
  return x.length > 0 && typeof x[0] === "object" && x[0] !== null && "values" in (x[0] as object);
}

/** Escapes plotly's %{…} template syntax in user text. */
export function escapeTemplate(text: string): string {
  return text.replace(/%\{/g, "%&#123;");
}
