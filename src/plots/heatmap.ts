/** Heatmaps: any matrix, and confusion matrices with counts written in the cells. */
import { formatLabelNumber, SEQUENTIAL_SCALE, themedConfig, themedLayout } from "./theme";
import type { Figure, FigureOptions, PlotJson, PlotNumbers } from "./types";

/** How matrix values are normalised before colouring: not, per row, per column, or by the total. */
export type MatrixNorm = "none" | "row" | "col" | "all";

/** Options for {@link heatmapChart}. */
export interface HeatmapOptions extends FigureOptions {
  /** The matrix, as rows. */
  z: readonly PlotNumbers[];
  /** Column labels. Defaults to 0, 1, …. */
  xLabels?: ReadonlyArray<string | number>;
  /** Row labels. Defaults to 0, 1, …. */
  yLabels?: ReadonlyArray<string | number>;
  /** Normalisation. Defaults to "none". */
  normalise?: MatrixNorm;
  /** Write each cell's value in it. Defaults to true when there are at most 400 cells. */
  annotate?: boolean;
  /** Significant digits of written values. Defaults to 3. */
  digits?: number;
  /** Row 0 at the top (matrix order). Defaults to true. */
  topDown?: boolean;
}

function sum(a: readonly number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/** Normalises a matrix per row, per column or by its total (a zero row/column stays zero). */
export function normaliseMatrix(z: readonly PlotNumbers[], norm: MatrixNorm): number[][] {
  const m = z.map((r) => Array.from(r));
  switch (norm) {
    case "none":
      return m;
    case "row":
      return m.map((r) => {
        const s = sum(r);
        return r.map((v) => (s ? v / s : 0));
      });
    case "col": {
      const cols = m[0] ? m[0].map((_, j) => sum(m.map((r) => r[j]!))) : [];
      return m.map((r) => r.map((v, j) => (cols[j] ? v / cols[j]! : 0)));
    }
    case "all": {
      const s = sum(m.map(sum));
      return m.map((r) => r.map((v) => (s ? v / s : 0)));
    }
    default:
      throw new Error(`unknown matrix normalisation: ${norm} (expected none|row|col|all)`);
  }
}

/**
 * A heatmap of a matrix.
 * @example heatmapChart({ z: [[1, 2], [3, 4]], xLabels: ["a", "b"], yLabels: ["c", "d"] })
 */
export function heatmapChart(opts: HeatmapOptions): Figure {
  const { z, normalise = "none", digits = 3, topDown = true } = opts;
  const cols = z[0]?.length ?? 0;
  z.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`heatmapChart: row ${i} has ${r.length} values but row 0 has ${cols} (expected a rectangular matrix)`);
  });
  const xLabels = (opts.xLabels ?? Array.from({ length: cols }, (_, j) => j)).map(String);
  const yLabels = (opts.yLabels ?? z.map((_, i) => i)).map(String);
  if (xLabels.length !== cols) throw new Error(`heatmapChart: ${xLabels.length} x labels for ${cols} columns`);
  if (yLabels.length !== z.length) throw new Error(`heatmapChart: ${yLabels.length} y labels for ${z.length} rows`);
  const m = normaliseMatrix(z, normalise);
  const annotate = opts.annotate ?? z.length * cols <= 400;
  const layout = themedLayout(opts, 1, {
    xaxis: { type: "category", gridcolor: "rgba(0,0,0,0)" },
    yaxis: { type: "category", autorange: topDown ? "reversed" : true, gridcolor: "rgba(0,0,0,0)" },
  });
  return {
    data: [
      {
        type: "heatmap",
        z: m as PlotJson,
        x: xLabels,
        y: yLabels,
        colorscale: SEQUENTIAL_SCALE,
        zmin: normalise === "none" ? undefined : 0,
        zmax: normalise === "none" ? undefined : 1,
        text: annotate ? (z.map((r, i) => Array.from(r, (v, j) => cellText(v, m[i]![j]!, normalise, digits))) as PlotJson) : undefined,
        texttemplate: annotate ? "%{text}" : undefined,
        hovertemplate: "%{y} → %{x}: %{z}<extra></extra>",
        xgap: 1,
        ygap: 1,
      },
    ],
    layout,
    config: themedConfig(),
  };
}

function cellText(raw: number, shown: number, norm: MatrixNorm, digits: number): string {
  return norm === "none" ? formatLabelNumber(raw, digits) : `${formatLabelNumber(shown, digits)}`;
}

/** Options for {@link confusionChart}. */
export interface ConfusionOptions extends Omit<HeatmapOptions, "z" | "xLabels" | "yLabels"> {
  /** Class names, in matrix order. Defaults to 0, 1, …. */
  labels?: ReadonlyArray<string | number>;
}

/**
 * A confusion matrix (rows: true class, columns: predicted), row-normalised by default (recall on
 * the diagonal).
 * @example confusionChart(matrix, { labels: ["cat", "dog"] })
 */
export function confusionChart(matrix: readonly PlotNumbers[], opts: ConfusionOptions = {}): Figure {
  const { labels, normalise = "row", xTitle = "predicted", yTitle = "true", ...rest } = opts;
  return heatmapChart({ ...rest, z: matrix, xLabels: labels, yLabels: labels, normalise, xTitle, yTitle });
}
