/** Box plots from statistics computed here (quartiles, Tukey whiskers), outliers as points. */
import { boxStats } from "./stats";
import { paletteColor, themedConfig, themedLayout } from "./theme";
import type { Figure, FigureOptions, PlotNumbers, Trace } from "./types";

/** One named sample. */
export interface BoxSeries {
  /** Category name. */
  name: string;
  /** The values. */
  values: PlotNumbers;
  /** Colour. Defaults to the palette colour at the series' index. */
  color?: string;
}

/** Options for {@link boxChart}. */
export interface BoxOptions extends FigureOptions {
  /** Draw the points beyond the whiskers. Defaults to true. */
  outliers?: boolean;
  /** The most outliers drawn per box (the most extreme ones first). Defaults to 200. */
  maxOutliers?: number;
}

/**
 * Box plots, one per series (distances per art set, group sizes per locale…).
 * @example boxChart([{ name: "noto", values: a }, { name: "twemoji", values: b }], { yTitle: "distance" })
 */
export function boxChart(series: readonly BoxSeries[], opts: BoxOptions = {}): Figure {
  if (series.length === 0) throw new Error("boxChart: no series (expected at least one)");
  const { outliers = true, maxOutliers = 200 } = opts;
  const data: Trace[] = [];
  series.forEach((s, i) => {
    const st = boxStats(s.values, `boxChart series "${s.name}"`);
    const color = s.color ?? paletteColor(i);
    data.push({
      type: "box",
      name: s.name,
      x: [s.name],
      q1: [st.q1],
      median: [st.median],
      q3: [st.q3],
      lowerfence: [st.lowerFence],
      upperfence: [st.upperFence],
      mean: [st.mean],
      sd: [st.sd],
      boxmean: true,
      marker: { color },
      line: { color },
      showlegend: false,
    });
    if (outliers && st.outliers.length) {
      // the most extreme outliers first (furthest from the median)
      const shown = [...st.outliers].sort((a, b) => Math.abs(b - st.median) - Math.abs(a - st.median)).slice(0, maxOutliers);
      data.push({
        type: "scatter",
        mode: "markers",
        name: `${s.name} outliers`,
        x: shown.map(() => s.name),
        y: shown,
        marker: { color, size: 4, opacity: 0.6 },
        showlegend: false,
        hovertemplate: "%{y}<extra>outlier</extra>",
      });
    }
  });
  return { data, layout: themedLayout({ showLegend: false, ...opts }, data.length, { xaxis: { type: "category" } }), config: themedConfig() };
}
