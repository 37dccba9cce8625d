import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/train/config";
import { formatMeanStd, meanStd, type StudyResultRow, studyArms, studyRunId, summarizeStudy } from "../../src/train/study";
import { taskDef } from "../../src/train/tasks/index";

const row = (arm: string, fold: number, accuracy: number, macroF1: number): StudyResultRow => ({
  arm,
  fold,
  values: {},
  run: studyRunId(arm, fold),
  metrics: { val_macro_f1: macroF1, val_accuracy: accuracy },
  steps: 10,
  seconds: 2,
});

describe("study aggregation", () => {
  it("meanStd uses the sample standard deviation (ddof = 1), by hand", () => {
    const m = meanStd([0.5, 0.7, 0.9]);
    expect(m.mean).toBeCloseTo(0.7, 12);
    // deviations ±0.2, 0 → (0.04 + 0.04) / 2 = 0.04 → 0.2
    expect(m.std).toBeCloseTo(0.2, 12);
    expect(meanStd([1]).mean).toBe(1);
    expect(Number.isNaN(meanStd([1]).std)).toBe(true);
    expect(() => meanStd([])).toThrow(/no values/);
  });

  it("summarises the metrics asked, per arm in first-seen order", () => {
    const rows = [row("b", 0, 0.6, 0.2), row("a", 0, 0.8, 0.4), row("b", 1, 0.8, 0.4), row("a", 1, 0.8, 0.6)];
    const s = summarizeStudy(rows, ["val_accuracy", "val_macro_f1", "val_top5"]);
    expect(s.map((x) => x.arm)).toEqual(["b", "a"]);
    expect(s[0]!.folds).toBe(2);
    expect(Object.keys(s[0]!.metrics)).toEqual(["val_accuracy", "val_macro_f1", "val_top5"]);
    expect(s[0]!.metrics.val_accuracy!.mean).toBeCloseTo(0.7, 12);
    expect(s[0]!.metrics.val_accuracy!.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(s[1]!.metrics.val_accuracy!.std).toBe(0);
    expect(s[1]!.metrics.val_macro_f1!.mean).toBeCloseTo(0.5, 12);
    // a metric the runs did not report is NaN, not dropped
    expect(Number.isNaN(s[1]!.metrics.val_top5!.mean)).toBe(true);
    expect(s[1]!.seconds).toBe(4);
    expect(summarizeStudy(rows, ["val_accuracy"]).every((x) => Object.keys(x.metrics).length === 1)).toBe(true);
    expect(() => summarizeStudy([row("a", 0, 1, 1), row("a", 0, 1, 1)], ["val_accuracy"])).toThrow(/arm 'a' has fold 0 twice/);
  });

  it("formats mean ± std", () => {
    expect(formatMeanStd({ mean: 0.81234, std: 0.0131 })).toBe("0.812 ± 0.013");
    expect(formatMeanStd({ mean: 0.5, std: Number.NaN }, 2)).toBe("0.50");
  });

  it("run ids are the arm name with path-unsafe characters replaced", () => {
    expect(studyRunId("fusion.kind=concat tags=false", 1)).toBe("fusion.kind=concat_tags=false-fold1");
    expect(studyRunId("a/b c", 0)).toBe("a_b_c-fold0");
  });

  it("each task's study metrics start with its primary metric", () => {
    expect(taskDef("classify").studyMetrics[0]).toBe("val_macro_f1");
    expect(taskDef("match").studyMetrics[0]).toBe("val_f1");
  });
});

describe("study arms", () => {
  it("expands the 2×2 grid into four arms, first key slowest, without touching the base", () => {
    const cfg = resolveConfig({ task: "classify", model: { text: { encoder: "transformer" } }, grid: { "model.fusion.kind": ["concat", "transformer"], "data.tags": [false, true] } });
    const arms = studyArms(cfg);
    expect(arms.map((a) => a.name)).toEqual(["fusion.kind=concat tags=false", "fusion.kind=concat tags=true", "fusion.kind=transformer tags=false", "fusion.kind=transformer tags=true"]);
    expect(arms[0]!.values).toEqual({ "model.fusion.kind": "concat", "data.tags": false });
    expect(arms[3]!.config.model.fusion.kind).toBe("transformer");
    expect(arms[3]!.config.data.tags).toBe(true);
    expect(arms[1]!.config.model.fusion.kind).toBe("concat");
    expect(arms[1]!.config.data.tags).toBe(true);
    // every arm is one run: no grid left; the rest of the config is the base's
    for (const a of arms) {
      expect(a.config.grid).toEqual({});
      expect(a.config.task).toBe("classify");
      expect(a.config.optim).toEqual(cfg.optim);
    }
    // the base is not mutated
    expect(cfg.model.fusion.kind).toBe("concat");
    expect(cfg.data.tags).toBe(false);
    expect(Object.keys(cfg.grid)).toEqual(["model.fusion.kind", "data.tags"]);
  });

  it("is one arm named base without a grid; a match grid works the same way", () => {
    const base = studyArms(resolveConfig({ task: "classify" }));
    expect(base.map((a) => a.name)).toEqual(["base"]);
    expect(base[0]!.values).toEqual({});
    const m = studyArms(resolveConfig({ task: "match", grid: { "loss.triplet_weight": [0, 0.5] } }));
    expect(m.map((a) => a.name)).toEqual(["triplet_weight=0", "triplet_weight=0.5"]);
    expect(m.map((a) => a.config.loss.triplet_weight)).toEqual([0, 0.5]);
  });
});

describe("study grids in configs", () => {
  it("rejects an unknown grid key, listing the known ones", () => {
    expect(() => resolveConfig({ grid: { "model.fusio": ["concat"] } }, "s.yaml")).toThrow(/s\.yaml: unknown grid key model\.fusio \(expected one of .*model\.fusion\.kind\|/);
    expect(() => resolveConfig({ grid: { grid: [{}] } })).toThrow(/unknown grid key grid/);
  });

  it("rejects a key every arm must share", () => {
    expect(() => resolveConfig({ grid: { "data.fold": [0, 1] } })).toThrow(/grid key data\.fold cannot vary within a study .*may not be one of task\|name\|data\.dataset\|data\.folds\|data\.fold\|/);
    expect(() => resolveConfig({ task: "classify", grid: { "classify.label": ["subgroup", "tags"] } })).toThrow(/grid key classify\.label cannot vary/);
  });

  it("rejects an empty list, a non-list and a bad value, naming the key", () => {
    expect(() => resolveConfig({ grid: { "data.tags": [] } })).toThrow(/grid\.data\.tags must be a non-empty list of values/);
    expect(() => resolveConfig({ grid: { "data.tags": true } })).toThrow(/grid\.data\.tags must be a non-empty list of values/);
    expect(() => resolveConfig({ grid: { "model.fusion.kind": ["concat", "gated"] } })).toThrow(/grid\.model\.fusion\.kind: bad value for model\.fusion\.kind: "gated" \(expected one of /);
    expect(() => resolveConfig({ grid: { "optim.epochs": [1, 0] } })).toThrow(/grid\.optim\.epochs: bad value for optim\.epochs: 0/);
    expect(() => resolveConfig({ grid: ["data.tags"] })).toThrow(/grid must be a map of dotted key → list of values/);
  });
});
