/** Bar charts: labelled values, counts of categories, and the long tail of class sizes. */
import { MUTED, paletteColor, themedConfig, themedLayout } from "./theme";
import type { Figure, FigureOptions, PlotNumbers } from "./types";

/** How bars are ordered. */
export type BarSort = "none" | "asc" | "desc" | "label";

/** Options for {@link barChart}. */
export interface BarOptions extends FigureOptions {
  /** Bar labels (categories). */
  labels: ReadonlyArray<string | number>;
  /** Bar heights, one per label. */
  values: PlotNumbers;
  /** Vertical or horizontal bars. Defaults to "v". */
  orientation?: "v" | "h";
  /** Bar order: as given, by value ascending/descending, or by label (numeric labels numerically). Defaults to "none". */
  sort?: BarSort;
  /** Keep only the first `top` bars after sorting and sum the rest into one grey "other (n)" bar. Defaults to all. */
  top?: number;
  /** Bar colour. Defaults to the first palette colour. */
  color?: string;
  /** Print each bar's value on it. Defaults to true when there are at most 30 bars. */
  showValues?: boolean;
}

const SORTS: Readonly<Record<BarSort, (a: [string | number, number], b: [string | number, number]) => number>> = Object.freeze({
  none: () => 0,
  asc: (a: [string | number, number], b: [string | number, number]) => a[1] - b[1],
  desc: (a: [string | number, number], b: [string | number, number]) => b[1] - a[1],
  label: (a: [string | number, number], b: [string | number, number]) =>
    typeof a[0] === "number" && typeof b[0] === "number" ? a[0] - b[0] : String(a[0]).localeCompare(String(b[0])),
});

/**
 * A bar chart of labelled values.
 * @example barChart({ labels: ["a", "b"], values: [3, 5], title: "counts" })
 */
export function barChart(opts: BarOptions): Figure {
  const { labels, values, orientation = "v", sort = "none", top, color = paletteColor(0) } = opts;
  if (labels.length !== values.length) throw new Error(`barChart: ${labels.length} labels but ${values.length} values (expected one value per label)`);
  const cmp = SORTS[sort];
  if (!cmp) throw new Error(`unknown bar sort: ${sort} (expected ${Object.keys(SORTS).join("|")})`);
  let pairs: Array<[string | number, number]> = Array.from(labels, (l, i) => [l, values[i]!]);
  pairs = pairs.map((p, i) => [p, i] as const).sort((a, b) => cmp(a[0], b[0]) || a[1] - b[1]).map(([p]) => p);
  const colors = pairs.map(() => color);
  if (top !== undefined) {
    if (!Number.isInteger(top) || top < 1) throw new Error(`barChart: top must be a positive integer, got ${top}`);
    if (pairs.length > top) {
      const rest = pairs.slice(top);
      pairs = pairs.slice(0, top);
      pairs.push([`other (${rest.length})`, rest.reduce((s, p) => s + p[1], 0)]);
      colors.length = top;
      colors.push(MUTED);
    }
  }
  const cats = pairs.map((p) => String(p[0]));
  const vals = pairs.map((p) => p[1]);
  const showValues = opts.showValues ?? pairs.length <= 30;
  const h = orientation === "h";
  if (orientation !== "v" && !h) throw new Error(`unknown orientation: ${orientation} (expected v|h)`);
  const layout = themedLayout(opts, 1, {
    bargap: 0.15,
    // categories as given (plotly would otherwise sort numeric-looking labels itself)
    [h ? "yaxis" : "xaxis"]: { type: "category", categoryorder: "array", categoryarray: h ? [...cats].reverse() : cats },
  });
  return {
    data: [
      {
        type: "bar",
        orientation,
        x: h ? vals : cats,
        y: h ? cats : vals,
        marker: { color: colors },
        text: showValues ? vals.map(String) : undefined,
        textposition: showValues ? "outside" : undefined,
        cliponaxis: false,
        hovertemplate: h ? "%{y}: %{x}<extra></extra>" : "%{x}: %{y}<extra></extra>",
      },
    ],
    layout,
    config: themedConfig(),
  };
}

/** Options for {@link countsChart}. */
export interface CountsOptions extends Omit<BarOptions, "labels" | "values" | "sort"> {
  /** Bar order. Defaults to "desc" (most frequent first); use "label" for numeric sizes. */
  sort?: BarSort;
}

/** Counts occurrences (like pandas' `value_counts`), first-seen order. */
export function valueCounts<T extends string | number>(items: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const it of items) m.set(it, (m.get(it) ?? 0) + 1);
  return m;
}

/**
 * A bar per category with its count: from raw items (counted), a Map, or a plain record.
 * @example countsChart(rows.map((r) => r.artSet), { title: "listings per art set" })
 */
export function countsChart(
  counts: Iterable<string | number> | ReadonlyMap<string | number, number> | Readonly<Record<string, number>>,
  opts: CountsOptions = {},
): Figure {
  let m: ReadonlyMap<string | number, number>;
  if (counts instanceof Map) m = counts;
  else if (typeof (counts as Iterable<unknown>)[Symbol.iterator] === "function") m = valueCounts(counts as Iterable<string | number>);
  else m = new Map(Object.entries(counts as Record<string, number>));
  const { sort = "desc", yTitle = "count", ...rest } = opts;
  return barChart({ ...rest, yTitle, sort, labels: [...m.keys()], values: [...m.values()] });
}

/**
 * The long tail: class sizes sorted largest first against their rank, as a filled line (works
 * for thousands of classes), log y axis by default.
 */
export function longTailChart(sizes: PlotNumbers, opts: FigureOptions = {}): Figure {
  const sorted = Array.from(sizes).sort((a, b) => b - a);
  const { xTitle = "class rank (largest first)", yTitle = "size", logY = true, ...rest } = opts;
  return {
    data: [
      {
        type: "scatter",
        mode: "lines",
        x: sorted.map((_, i) => i + 1),
        y: sorted,
        fill: "tozeroy",
        line: { color: paletteColor(0), shape: "hv", width: 1.5 },
        hovertemplate: "rank %{x}: %{y}<extra></extra>",
        name: "size",
      },
    ],
    layout: themedLayout({ ...rest, xTitle, yTitle, logY }, 1),
    config: themedConfig(),
  };
}
