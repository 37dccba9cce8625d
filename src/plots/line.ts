/** Line charts: training curves, metric-vs-threshold curves, anything over an ordered x. */
import { formatLabelNumber, paletteColor, type RefLine, refLines, themedConfig, themedLayout } from "./theme";
import { checkPlotValues } from "./stats";
import type { Figure, FigureOptions, PlotJson, PlotNumbers, Trace } from "./types";

/** Line dash styles. */
export type LineDash = "solid" | "dash" | "dot" | "dashdot";

/** One line. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** The y values. */
  y: PlotNumbers;
  /** The x values. Defaults to 0, 1, 2, …. */
  x?: PlotNumbers;
  /** Colour. Defaults to the palette colour at the series' index. */
  color?: string;
  /** Dash style. Defaults to "solid". */
  dash?: LineDash;
  /** Plot against the right-hand y axis. Defaults to false. */
  right?: boolean;
}

/** Options for {@link lineChart}. */
export interface LineOptions extends FigureOptions {
  /** Draw point markers too. Defaults to true when every series has at most 50 points. */
  markers?: boolean;
  /** Title of the right-hand y axis (used when a series sets `right`). Defaults to none. */
  y2Title?: string;
  /** Reference lines. Defaults to none. */
  lines?: readonly RefLine[];
}

/**
 * Lines over a shared x axis. Non-finite y values (NaN for "not measured this epoch") are gaps.
 * @example lineChart([{ name: "train loss", y: loss }, { name: "valid loss", y: vloss }], { xTitle: "epoch" })
 */
export function lineChart(series: readonly LineSeries[], opts: LineOptions = {}): Figure {
  if (series.length === 0) throw new Error("lineChart: no series (expected at least one)");
  const markers = opts.markers ?? series.every((s) => s.y.length <= 50);
  const data: Trace[] = series.map((s, i) => {
    const x = s.x ? Array.from(s.x) : Array.from(s.y, (_, j) => j);
    if (x.length !== s.y.length) throw new Error(`lineChart series "${s.name}": ${x.length} x values but ${s.y.length} y values`);
    checkPlotValues(x, `lineChart series "${s.name}" x`);
    return {
      type: "scatter",
      mode: markers ? "lines+markers" : "lines",
      name: s.name,
      x,
      // JSON has no NaN: gaps are nulls
      y: Array.from(s.y, (v) => (Number.isFinite(v) ? v : null)) as PlotJson[],
      yaxis: s.right ? "y2" : undefined,
      line: { color: s.color ?? paletteColor(i), dash: s.dash ?? "solid", width: 2 },
      marker: markers ? { size: 5 } : undefined,
    };
  });
  const { shapes, annotations } = refLines(opts.lines ?? []);
  const extra: Record<string, PlotJson | undefined> = { shapes, annotations, hovermode: "x unified" };
  if (series.some((s) => s.right)) {
    extra.yaxis2 = { title: opts.y2Title ? { text: opts.y2Title } : undefined, overlaying: "y", side: "right", showgrid: false, automargin: true } as PlotJson;
  }
  return { data, layout: themedLayout(opts, series.length, extra), config: themedConfig() };
}

/** A training history: metric name → one value per epoch (or step). */
export type TrainingHistory = Readonly<Record<string, PlotNumbers>>;

/**
 * Training curves from a history: metrics whose name contains "loss" on the left axis, the others
 * (accuracy, F1, learning rate…) on the right; validation series dashed.
 * @example trainingCurves({ loss: [...], val_loss: [...], val_f1: [...] })
 */
export function trainingCurves(history: TrainingHistory, opts: LineOptions = {}): Figure {
  const names = Object.keys(history);
  if (names.length === 0) throw new Error("trainingCurves: empty history (expected metric name → values)");
  const hasLoss = names.some((n) => n.includes("loss"));
  const series: LineSeries[] = names.map((n) => ({
    name: n,
    y: history[n]!,
    x: Array.from(history[n]!, (_, i) => i + 1),
    dash: /^val|valid/.test(n) ? "dash" : "solid",
    right: hasLoss && !n.includes("loss"),
  }));
  // same colour for "loss" and "val_loss"
  const base = [...new Set(names.map(baseMetric))];
  series.forEach((s) => {
    s.color = paletteColor(base.indexOf(baseMetric(s.name)));
  });
  const { xTitle = "epoch", yTitle = hasLoss ? "loss" : "value", y2Title = hasLoss ? "metric" : undefined, ...rest } = opts;
  return lineChart(series, { ...rest, xTitle, yTitle, y2Title });
}

function baseMetric(name: string): string {
  return name.replace(/^(val_|valid_|val\.|valid\.|validation_)/, "");
}

/** Input to {@link thresholdChart}: a metric per threshold, plus optional companions. */
export interface ThresholdCurve {
  /** The thresholds, ascending. */
  thresholds: PlotNumbers;
  /** The metric to maximise (F1), one per threshold. */
  score: PlotNumbers;
  /** The metric's name. Defaults to "F1". */
  scoreName?: string;
  /** Precision per threshold. Defaults to not drawn. */
  precision?: PlotNumbers;
  /** Recall per threshold. Defaults to not drawn. */
  recall?: PlotNumbers;
}

/**
 * A metric-vs-threshold curve (F1 against the distance threshold) with the best threshold marked.
 * @example thresholdChart({ thresholds, score: f1, precision, recall }, { xTitle: "cosine distance threshold" })
 */
export function thresholdChart(curve: ThresholdCurve, opts: LineOptions = {}): Figure {
  const { thresholds, score, scoreName = "F1", precision, recall } = curve;
  if (score.length !== thresholds.length) throw new Error(`thresholdChart: ${thresholds.length} thresholds but ${score.length} scores`);
  let best = -1;
  for (let i = 0; i < score.length; i++) if (Number.isFinite(score[i]!) && (best < 0 || score[i]! > score[best]!)) best = i;
  const series: LineSeries[] = [{ name: scoreName, x: thresholds, y: score, color: paletteColor(0) }];
  if (precision) series.push({ name: "precision", x: thresholds, y: precision, color: paletteColor(1), dash: "dot" });
  if (recall) series.push({ name: "recall", x: thresholds, y: recall, color: paletteColor(2), dash: "dot" });
  const lines: RefLine[] = [...(opts.lines ?? [])];
  if (best >= 0) {
    lines.push({ at: thresholds[best]!, label: `best ${scoreName} ${formatLabelNumber(score[best]!)} at ${formatLabelNumber(thresholds[best]!)}`, color: "#D55E00" });
  }
  const { xTitle = "threshold", yTitle = "score", ...rest } = opts;
  return lineChart(series, { ...rest, xTitle, yTitle, lines });
}
