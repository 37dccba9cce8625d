import { describe, expect, it } from "vitest";
import {
  barChart,
  boxChart,
  confusionChart,
  countsChart,
  type Figure,
  heatmapChart,
  histogramChart,
  lineChart,
  longTailChart,
  normaliseMatrix,
  pruneUndefined,
  scatterChart,
  thresholdChart,
  trainingCurves,
} from "../../src/plots/index";

/** A spec must survive JSON unchanged (no NaN, no undefined, no typed arrays, no functions). */
function roundTrips(fig: Figure): void {
  expect(JSON.parse(JSON.stringify(fig))).toEqual(pruneUndefined(fig));
  const text = JSON.stringify(fig);
  expect(text).not.toMatch(/NaN|Infinity/);
}

describe("bar charts", () => {
  it("sorts, keeps the top bars and folds the rest into 'other'", () => {
    const f = barChart({ labels: ["a", "b", "c", "d"], values: [1, 5, 3, 2], sort: "desc", top: 2 });
    expect(f.data[0]!.x).toEqual(["b", "c", "other (2)"]);
    expect(f.data[0]!.y).toEqual([5, 3, 3]);
    expect((f.data[0]!.marker as { color: string[] }).color[2]).toBe("#B0B0B0");
    roundTrips(f);
  });

  it("counts raw items, maps and records alike; numeric labels sort numerically", () => {
    const a = countsChart([3, 2, 2, 10, 2, 3], { sort: "label" });
    expect(a.data[0]!.x).toEqual(["2", "3", "10"]);
    expect(a.data[0]!.y).toEqual([3, 2, 1]);
    const b = countsChart(new Map([["x", 1], ["y", 4]]));
    expect(b.data[0]!.x).toEqual(["y", "x"]);
    expect(countsChart({ p: 2, q: 7 }).data[0]!.y).toEqual([7, 2]);
  });

  it("rejects mismatched input with a clear message", () => {
    expect(() => barChart({ labels: ["a"], values: [1, 2] })).toThrow(/1 labels but 2 values/);
    expect(() => barChart({ labels: ["a"], values: [1], sort: "up" as never })).toThrow(/unknown bar sort: up \(expected none\|asc\|desc\|label\)/);
    expect(() => barChart({ labels: ["a"], values: [1], orientation: "d" as never })).toThrow(/unknown orientation/);
  });

  it("long tail: sizes by rank on a log axis", () => {
    const f = longTailChart(new Int32Array([2, 9, 4]));
    expect(f.data[0]!.y).toEqual([9, 4, 2]);
    expect(f.data[0]!.x).toEqual([1, 2, 3]);
    expect((f.layout.yaxis as { type: string }).type).toBe("log");
  });
});

describe("histograms", () => {
  it("overlays series on shared bins, counts add up", () => {
    const f = histogramChart(
      [
        { name: "matched", values: [0.1, 0.2, 0.2, 0.3] },
        { name: "unmatched", values: new Float32Array([0.6, 0.7, 0.9]) },
      ],
      { bins: 4, lines: [{ at: 0.45, label: "threshold" }] },
    );
    expect(f.data).toHaveLength(2);
    expect(f.data[0]!.x).toEqual(f.data[1]!.x);
    expect((f.data[0]!.y as number[]).reduce((a, b) => a + b)).toBe(4);
    expect((f.data[1]!.y as number[]).reduce((a, b) => a + b)).toBe(3);
    expect(f.layout.barmode).toBe("overlay");
    expect((f.layout.shapes as unknown[]).length).toBe(1);
    roundTrips(f);
  });

  it("a plain array is one series; bad values and modes are named", () => {
    expect(histogramChart([1, 2, 3]).data).toHaveLength(1);
    expect(() => histogramChart([1, Number.NaN])).toThrow(/index 1 is NaN/);
    expect(() => histogramChart([1], { mode: "pile" as never })).toThrow(/unknown histogram mode: pile \(expected overlay\|stack\|group\)/);
  });
});

describe("line charts", () => {
  it("turns NaN into gaps and puts non-loss metrics on the right axis", () => {
    const f = trainingCurves({ loss: [1, 0.5, 0.25], val_loss: [1.2, Number.NaN, 0.4], val_f1: [0.1, 0.5, 0.7] });
    expect(f.data.map((t) => t.yaxis)).toEqual([undefined, undefined, "y2"]);
    expect(f.data[1]!.y).toEqual([1.2, null, 0.4]);
    expect((f.data[0]!.line as { color: string }).color).toBe((f.data[1]!.line as { color: string }).color);
    expect((f.data[1]!.line as { dash: string }).dash).toBe("dash");
    roundTrips(f);
  });

  it("marks the best threshold", () => {
    const f = thresholdChart({ thresholds: [0.1, 0.2, 0.3], score: [0.5, 0.8, 0.6], precision: [0.4, 0.8, 0.9] });
    const ann = f.layout.annotations as Array<{ text: string; x: number }>;
    expect(ann[0]!.x).toBe(0.2);
    expect(ann[0]!.text).toBe("best F1 0.8 at 0.2");
    expect(f.data).toHaveLength(2);
    expect(() => lineChart([{ name: "a", x: [1, 2], y: [1] }])).toThrow(/2 x values but 1 y values/);
  });
});

describe("scatter", () => {
  it("colours the largest groups, greys the rest, draws 'other' underneath", () => {
    const groups = ["a", "a", "a", "b", "b", "c", "d"];
    const f = scatterChart({ x: [0, 1, 2, 3, 4, 5, 6], y: [0, 0, 0, 1, 1, 2, 3], groups, maxGroups: 2 });
    expect(f.data.map((t) => t.name)).toEqual(["other (2 groups)", "a (3)", "b (2)"]);
    expect(f.data[0]!.x).toEqual([5, 6]);
    expect(() => scatterChart({ x: [1], y: [1], groups: [] })).toThrow(/1 points but 0 groups/);
    roundTrips(f);
  });
});

describe("heatmaps", () => {
  it("normalises rows, columns and totals (zero rows stay zero)", () => {
    expect(normaliseMatrix([[1, 3], [0, 0]], "row")).toEqual([[0.25, 0.75], [0, 0]]);
    expect(normaliseMatrix([[1, 3], [1, 1]], "col")).toEqual([[0.5, 0.75], [0.5, 0.25]]);
    expect(normaliseMatrix([[1, 3], [0, 4]], "all")).toEqual([[0.125, 0.375], [0, 0.5]]);
    expect(() => normaliseMatrix([[1]], "diag" as never)).toThrow(/unknown matrix normalisation: diag/);
  });

  it("confusion matrix: true rows, predicted columns, cell text", () => {
    const f = confusionChart([[8, 2], [1, 9]], { labels: ["cat", "dog"] });
    const t = f.data[0]!;
    expect(t.z).toEqual([[0.8, 0.2], [0.1, 0.9]]);
    expect(t.text).toEqual([["0.8", "0.2"], ["0.1", "0.9"]]);
    expect((f.layout.yaxis as { title: { text: string } }).title.text).toBe("true");
    expect(() => heatmapChart({ z: [[1, 2], [3]] })).toThrow(/row 1 has 1 values but row 0 has 2/);
  });
});

describe("box plots", () => {
  it("carries precomputed statistics and outliers", () => {
    const f = boxChart([{ name: "a", values: [1, 2, 3, 4, 5, 6, 7, 8, 100] }]);
    expect(f.data[0]).toMatchObject({ type: "box", q1: [3], median: [5], q3: [7], upperfence: [8] });
    expect(f.data[1]!.y).toEqual([100]);
    roundTrips(f);
  });
});

describe("snapshots (the spec is the contract with plotly.js)", () => {
  it("matches the stored specs", () => {
    expect(countsChart({ a: 3, b: 1 }, { title: "counts" })).toMatchSnapshot();
    expect(histogramChart([{ name: "d", values: [0, 1, 1, 2] }], { bins: 2 })).toMatchSnapshot();
    expect(confusionChart([[1, 0], [0, 1]])).toMatchSnapshot();
  });
});
