/**
 * The one small theme every figure shares: a colour-blind-friendly palette, quiet grid lines,
 * compact margins. Builders call {@link themedLayout}; nothing else sets fonts or colours.
 */
import type { FigureOptions, PlotJson, Layout } from "./types";

/** The categorical palette (Okabe–Ito, reordered so the first two contrast well). */
export const PALETTE: readonly string[] = Object.freeze([
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
  "#8C8C8C",
  "#7F3C8D",
]);

/** The grey used for "other" / background elements. */
export const MUTED = "#B0B0B0";

/** The sequential colour scale for heatmaps (white → palette blue). */
export const SEQUENTIAL_SCALE: PlotJson = [
  [0, "#f7fbff"],
  [0.5, "#6baed6"],
  [1, "#08306b"],
];

/** The i-th palette colour (wraps around). */
export function paletteColor(i: number): string {
  const n = PALETTE.length;
  return PALETTE[((i % n) + n) % n]!;
}

function axis(title: string | undefined, log: boolean | undefined): Layout {
  return {
    title: title ? { text: title } : undefined,
    type: log ? "log" : undefined,
    gridcolor: "#e5e5e5",
    zerolinecolor: "#c8c8c8",
    linecolor: "#888888",
    ticks: "outside",
    automargin: true,
  };
}

/** Removes `undefined` fields recursively so specs compare and serialise cleanly. */
export function pruneUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(pruneUndefined) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = pruneUndefined(v);
    return out as T;
  }
  return value;
}

/** The themed base layout for a figure, from the shared options plus builder-specific extras. */
export function themedLayout(opts: FigureOptions, traces: number, extra: Layout = {}): Layout {
  const { title, xTitle, yTitle, height = 360, width, logX, logY, showLegend = traces > 1 } = opts;
  return pruneUndefined({
    title: title ? { text: title, x: 0.02, xanchor: "left", font: { size: 16 } } : undefined,
    height,
    width,
    autosize: width === undefined,
    margin: { l: 60, r: 20, t: title ? 48 : 20, b: 50 },
    font: { family: "Inter, 'Segoe UI', Helvetica, Arial, sans-serif", size: 12, color: "#222222" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    colorway: [...PALETTE],
    showlegend: showLegend,
    legend: showLegend ? { orientation: "h", y: -0.2, x: 0 } : undefined,
    hovermode: "closest",
    ...extra,
    xaxis: { ...axis(xTitle, logX), ...((extra.xaxis as Layout | undefined) ?? {}) },
    yaxis: { ...axis(yTitle, logY), ...((extra.yaxis as Layout | undefined) ?? {}) },
  });
}

/** The plotly config every figure uses: responsive, no logo, PNG download button kept. */
export function themedConfig(): { [key: string]: PlotJson } {
  return { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
}

/** A reference line across the plot: a threshold, the best epoch, a target value. */
export interface RefLine {
  /** Where the line sits, in data coordinates. */
  at: number;
  /** Text shown at the line's end. Defaults to none. */
  label?: string;
  /** Line colour. Defaults to "#444444". */
  color?: string;
  /** Vertical ("x": a line at x = at) or horizontal ("y"). Defaults to "x". */
  axis?: "x" | "y";
}

/** Layout `shapes` and `annotations` drawing reference lines. */
export function refLines(lines: readonly RefLine[]): { shapes: PlotJson[]; annotations: PlotJson[] } {
  const shapes: PlotJson[] = [];
  const annotations: PlotJson[] = [];
  for (const { at, label, color = "#444444", axis: ax = "x" } of lines) {
    if (!Number.isFinite(at)) throw new Error(`reference line: 'at' must be a finite number, got ${at}`);
    if (ax !== "x" && ax !== "y") throw new Error(`unknown reference line axis: ${ax} (expected x|y)`);
    const vertical = ax === "x";
    shapes.push(
      vertical
        ? { type: "line", xref: "x", yref: "paper", x0: at, x1: at, y0: 0, y1: 1, line: { color, width: 1.5, dash: "dash" } }
        : { type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: at, y1: at, line: { color, width: 1.5, dash: "dash" } },
    );
    if (label) {
      annotations.push(
        vertical
          ? { x: at, xref: "x", y: 1, yref: "paper", text: label, showarrow: false, xanchor: "left", yanchor: "top", xshift: 4, font: { color, size: 11 } }
          : { x: 1, xref: "paper", y: at, yref: "y", text: label, showarrow: false, xanchor: "right", yanchor: "bottom", font: { color, size: 11 } },
      );
    }
  }
  return { shapes, annotations };
}

/** Formats a number for labels: integers as is, others to `digits` significant digits. */
export function formatLabelNumber(v: number, digits = 3): string {
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}
