/** Scatter plots of 2-D points (an embedding projection), coloured by group. */
import { valueCounts } from "./bar";
import { checkPlotValues } from "./stats";
import { MUTED, paletteColor, themedConfig, themedLayout } from "./theme";
import type { Figure, FigureOptions, PlotNumbers, Trace } from "./types";

/** Options for {@link scatterChart}. */
export interface ScatterOptions extends FigureOptions {
  /** x coordinates. */
  x: PlotNumbers;
  /** y coordinates, one per x. */
  y: PlotNumbers;
  /** A group per point (label_group, class); one colour and legend entry per group. Defaults to one group. */
  groups?: ReadonlyArray<string | number>;
  /** Hover text per point (the title, say). Defaults to none. */
  text?: readonly string[];
  /** The largest groups that get their own colour; the rest are drawn grey as "other". Defaults to 10. */
  maxGroups?: number;
  /** Marker size in pixels. Defaults to 6. */
  markerSize?: number;
  /** Marker opacity. Defaults to 0.8. */
  opacity?: number;
}

/**
 * A 2-D scatter coloured by group: the `maxGroups` largest groups in colour, the rest grey.
 * @example scatterChart({ x: proj.x, y: proj.y, groups: labels, text: titles, title: "PCA of image embeddings" })
 */
export function scatterChart(opts: ScatterOptions): Figure {
  const { x, y, groups, text, maxGroups = 10, markerSize = 6, opacity = 0.8 } = opts;
  const n = x.length;
  if (y.length !== n) throw new Error(`scatterChart: ${n} x values but ${y.length} y values`);
  if (groups && groups.length !== n) throw new Error(`scatterChart: ${n} points but ${groups.length} groups (expected one group per point)`);
  if (text && text.length !== n) throw new Error(`scatterChart: ${n} points but ${text.length} texts (expected one per point)`);
  checkPlotValues(x, "scatterChart x");
  checkPlotValues(y, "scatterChart y");
  const counts = valueCounts(groups ?? []);
  // largest groups first; ties keep first-seen order (Array.sort is stable)
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const kept = new Map(ranked.slice(0, maxGroups).map((g, i) => [g, i] as const));
  const buckets: number[][] = Array.from({ length: kept.size + 1 }, () => []);
  for (let i = 0; i < n; i++) {
    const k = groups ? (kept.get(groups[i]!) ?? kept.size) : 0;
    buckets[k]!.push(i);
  }
  const names = [...kept.keys()].map(String);
  const data: Trace[] = [];
  buckets.forEach((idx, k) => {
    if (idx.length === 0) return;
    const other = k === kept.size;
    data.push({
      type: "scatter",
      mode: "markers",
      name: !groups ? "points" : other ? `other (${ranked.length - kept.size} groups)` : `${names[k]} (${idx.length})`,
      x: idx.map((i) => x[i]!),
      y: idx.map((i) => y[i]!),
      text: text ? idx.map((i) => text[i]!) : undefined,
      hovertemplate: text ? "%{text}<extra>%{fullData.name}</extra>" : undefined,
      marker: { size: markerSize, opacity: other ? Math.min(opacity, 0.4) : opacity, color: other ? MUTED : paletteColor(k) },
    });
  });
  // "other" underneath the coloured groups
  data.sort((a, b) => Number(String(b.name).startsWith("other (")) - Number(String(a.name).startsWith("other (")));
  return { data, layout: themedLayout(opts, data.length, { hovermode: "closest" }), config: themedConfig() };
}
