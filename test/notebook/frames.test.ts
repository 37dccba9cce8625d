import { describe, expect, it } from "vitest";
import { perClassReport } from "../../src/metrics/per_class";
import { classCounts, perClassFrame, studyTable } from "../../src/notebook/frames";
import { type StudyResultRow, summarizeStudy } from "../../src/train/study";

describe("classCounts", () => {
  it("gives the DataFrame columns with hand-computed shares", () => {
    // counts 6, 3, 1 of 10
    const labels = [..."aaaaaa", ..."bbb", "c"];
    const df = classCounts(labels, { beta: 0.5 });
    expect(df.columns).toEqual(["class", "count", "share", "cumulative_share", "effective_number"]);
    expect(df.column("class").values).toEqual(["a", "b", "c"]);
    expect(df.column("count").values).toEqual([6, 3, 1]);
    const share = df.column("share").values as number[];
    const cum = df.column("cumulative_share").values as number[];
    [0.6, 0.3, 0.1].forEach((v, i) => {
      expect(share[i]).toBeCloseTo(v, 12);
    });
    [0.6, 0.9, 1.0].forEach((v, i) => {
      expect(cum[i]).toBeCloseTo(v, 12);
    });
    // (1 − 0.5^n)/(1 − 0.5): n=6 → 1.96875, n=3 → 1.75, n=1 → 1
    const eff = df.column("effective_number").values as number[];
    [1.96875, 1.75, 1].forEach((v, i) => {
      expect(eff[i]).toBeCloseTo(v, 12);
    });
  });

  it("writes integer classes as text and rejects an empty label list", () => {
    expect(classCounts([2, 0, 2]).column("class").values).toEqual(["2", "0"]);
    expect(() => classCounts([])).toThrow(/no labels/);
  });
});

describe("perClassFrame", () => {
  it("has snake_case columns, one row per class", () => {
    const rows = perClassReport([0, 0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 0, 1, 1, 0, 0, 2, 0], { names: ["head", "mid", "tail"], trainCounts: [40, 12, 3] });
    const df = perClassFrame(rows);
    expect(df.columns).toEqual(["class", "name", "train_count", "train_share", "support", "precision", "recall", "f1"]);
    expect(df.shape).toEqual([3, 8]);
    expect(df.column("name").values).toEqual(["head", "mid", "tail"]);
    expect(df.column("train_count").values).toEqual([40, 12, 3]);
    expect(() => perClassFrame([])).toThrow(/no rows/);
  });
});

describe("studyTable", () => {
  const row = (arm: string, fold: number, values: Record<string, string | boolean>, accuracy: number, macroF1: number): StudyResultRow => ({
    arm,
    fold,
    values,
    run: `${arm}-fold${fold}`,
    metrics: { val_macro_f1: macroF1, val_accuracy: accuracy },
    steps: 10,
    seconds: 2,
  });

  it("has the grid columns, folds, then mean ± std text per metric in the order asked", () => {
    const v = (f: string, t: boolean) => ({ "model.fusion.kind": f, "data.tags": t });
    const rows = [row("x", 0, v("concat", false), 0.5, 0.1), row("x", 1, v("concat", false), 0.7, 0.3), row("y", 0, v("transformer", true), 0.9, 0.5)];
    const metrics = ["val_macro_f1", "val_accuracy"];
    const df = studyTable(summarizeStudy(rows, metrics), metrics);
    expect(df.columns).toEqual(["model.fusion.kind", "data.tags", "folds", "val_macro_f1", "val_accuracy"]);
    expect(df.column("folds").values).toEqual([2, 1]);
    // accuracy 0.5, 0.7 → mean 0.6, sample std 0.1·√2; one fold prints the mean only
    expect(df.column("val_accuracy").values).toEqual(["0.600 ± 0.141", "0.900"]);
    expect(df.column("val_macro_f1").values).toEqual(["0.200 ± 0.141", "0.500"]);
    expect(df.column("data.tags").values).toEqual(["false", "true"]);
    expect(studyTable(summarizeStudy(rows, metrics), ["val_accuracy"], 1).column("val_accuracy").values).toEqual(["0.6 ± 0.1", "0.9"]);
  });

  it("names the arm when the grid is empty, and rejects no arms", () => {
    const df = studyTable(summarizeStudy([row("base", 0, {}, 0.5, 0.25)], ["val_accuracy"]), ["val_accuracy"]);
    expect(df.columns).toEqual(["arm", "folds", "val_accuracy"]);
    expect(df.column("arm").values).toEqual(["base"]);
    expect(() => studyTable([], ["val_accuracy"])).toThrow(/no arms/);
  });
});
