/**
 * Plotly figure specs as plain data: what `Plotly.newPlot(el, data, layout, config)` takes.
 * Kept loosely typed (plotly's attribute tree is huge) but JSON-serialisable by construction.
 */

/** A JSON value. */
export type PlotJson = string | number | boolean | null | PlotJson[] | { [key: string]: PlotJson | undefined };

/** One plotly trace (`{type: "bar", x, y, …}`). */
export type Trace = { type: string } & { [key: string]: PlotJson | undefined };

/** A plotly layout object. */
export type Layout = { [key: string]: PlotJson | undefined };

/** A plotly figure spec: traces, layout and optional plotly config. JSON-serialisable. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: { [key: string]: PlotJson | undefined };
}

/** Options every figure builder accepts. */
export interface FigureOptions {
  /** The figure title. Defaults to none. */
  title?: string;
  /** The x-axis title. Defaults to a builder-specific label or none. */
  xTitle?: string;
  /** The y-axis title. Defaults to a builder-specific label or none. */
  yTitle?: string;
  /** Height in pixels. Defaults to 360. */
  height?: number;
  /** Width in pixels; unset means "fill the container". Defaults to unset. */
  width?: number;
  /** A log-scaled x axis. Defaults to false. */
  logX?: boolean;
  /** A log-scaled y axis. Defaults to false. */
  logY?: boolean;
  /** Show the legend. Defaults to true when there is more than one trace. */
  showLegend?: boolean;
}

/** Numbers as a plain array or any typed array. */
export type PlotNumbers = ArrayLike<number>;
