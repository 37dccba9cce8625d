import { describe, expect, it } from "vitest";
import { formatMeanStd, meanStd, resolveStudyConfig, type StudyResultRow, studyArms, studyTable, summarizeStudy, withConfigValue } from "../../src/imbalance/index";

const row = (arm: string, fold: number, accuracy: number, macro_f1: number, values: Record<string, string | boolean> = {}): StudyResultRow => ({
  arm,
  fold,
  values,
  accuracy,
  top5: 1,
  macro_f1,
  micro_f1: accuracy,
  macro_precision: 0,
  macro_recall: 0,
  val_loss: 1,
  steps: 10,
  seconds: 2,
});

describe("study aggregation", () => {
  it("meanStd uses the sample standard deviation (ddof = 1), by hand", () => {
    const m = meanStd([0.5, 0.7, 0.9]);
    expect(m.mean).toBeCloseTo(0.7, 12);
    // deviations ±0.2, 0 → (0.04 + 0.04) / 2 = 0.04 → 0.2
    expect(m.std).toBeCloseTo(0.2, 12);
    expect(Number.isNaN(meanStd([1]).std)).toBe(true);
    expect(() => meanStd([])).toThrow(/no values/);
  });

  it("summarises per arm in first-seen order", () => {
    const rows = [row("b", 0, 0.6, 0.2), row("a", 0, 0.8, 0.4), row("b", 1, 0.8, 0.4), row("a", 1, 0.8, 0.6)];
    const s = summarizeStudy(rows);
    expect(s.map((x) => x.arm)).toEqual(["b", "a"]);
    expect(s[0]!.folds).toBe(2);
    expect(s[0]!.metrics.accuracy.mean).toBeCloseTo(0.7, 12);
    expect(s[0]!.metrics.accuracy.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(s[1]!.metrics.accuracy.std).toBe(0);
    expect(s[1]!.metrics.macro_f1.mean).toBeCloseTo(0.5, 12);
    expect(s[1]!.seconds).toBe(4);
    expect(() => summarizeStudy([row("a", 0, 1, 1), row("a", 0, 1, 1)])).toThrow(/fold 0 twice/);
  });

  it("formats mean ± std and builds the table", () => {
    expect(formatMeanStd({ mean: 0.81234, std: 0.0131 })).toBe("0.812 ± 0.013");
    expect(formatMeanStd({ mean: 0.5, std: Number.NaN }, 2)).toBe("0.50");
    const v = (f: string, t: boolean) => ({ fusion: f, tags: t });
    const rows = [row("x", 0, 0.5, 0.1, v("concat", false)), row("x", 1, 0.7, 0.3, v("concat", false)), row("y", 0, 0.9, 0.5, v("transformer", true))];
    const df = studyTable(summarizeStudy(rows));
    expect(df.columns).toEqual(["fusion", "tags", "folds", "accuracy", "macro_f1", "top5", "micro_f1", "macro_recall"]);
    expect(df.column("accuracy").values).toEqual(["0.600 ± 0.141", "0.900"]);
    expect(df.column("tags").values).toEqual(["false", "true"]);
  });
});

describe("study configs", () => {
  it("expands the 2×2 grid into four arms, first key slowest", () => {
    const s = resolveStudyConfig({
      grid: {
        "model.fusion": ["concat", "transformer"],
        "data.tags": [false, true],
      },
    });
    const arms = studyArms(s);
    expect(arms.map((a) => a.name)).toEqual(["fusion=concat tags=false", "fusion=concat tags=true", "fusion=transformer tags=false", "fusion=transformer tags=true"]);
    expect(arms[3]!.config.model.fusion).toBe("transformer");
    expect(arms[3]!.config.data.tags).toBe(true);
    expect(arms[0]!.values).toEqual({ fusion: "concat", tags: false });
    expect(s.base.model.fusion).toBe("concat"); // the base is not mutated
    expect(studyArms(resolveStudyConfig({})).map((a) => a.name)).toEqual(["base"]);
  });

  it("rejects unknown keys and bad values, naming them", () => {
    expect(() => resolveStudyConfig({ optim: { lrr: 1 } }, "s.yaml")).toThrow(/s\.yaml: unknown key optim\.lrr \(expected one of lr\|weight_decay/);
    expect(() => resolveStudyConfig({ loss: { class_weights: "inverse-sqrt" } })).toThrow(
      /bad value for loss\.class_weights: "inverse-sqrt" \(expected one of none\|inverse\|inverse_sqrt\|effective_number\|power\)/,
    );
    expect(() => resolveStudyConfig({ grid: { "model.fusio": ["concat"] } })).toThrow(/unknown grid key model\.fusio/);
    expect(() => resolveStudyConfig({ grid: { "model.fusion": ["concat", "gated"] } })).toThrow(/grid\.model\.fusion: bad value for model\.fusion: "gated"/);
    expect(() => resolveStudyConfig({ grid: { "data.folds": [2, 3] } })).toThrow(/cannot vary/);
    expect(() => resolveStudyConfig({ grid: { "data.tags": [] } })).toThrow(/non-empty list/);
    expect(() => resolveStudyConfig({ optim: { epochs: 0 } })).toThrow(/optim\.epochs: 0 \(expected an integer >= 1\)/);
    expect(() => resolveStudyConfig({ model: { image: false, fusion: "transformer" } })).toThrow(/needs model\.image: true/);
    expect(() => withConfigValue(resolveStudyConfig({}).base, "optim.nope", 1)).toThrow(/unknown key optim\.nope/);
  });
});
