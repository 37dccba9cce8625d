import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, overrideConfig, resolveConfig } from "../../src/train/index";

describe("run configs", () => {
  it("fills defaults", () => {
    const c = resolveConfig({ optim: { lr: 3e-4 } });
    expect(c.optim.lr).toBe(3e-4);
    expect(c.optim.batch_size).toBe(32);
    expect(c.heads.fused?.kind).toBe("arcface");
  });

  it("rejects unknown keys naming the key and the allowed ones", () => {
    expect(() => resolveConfig({ optim: { lrr: 1 } })).toThrow(/unknown key optim\.lrr \(expected one of optimizer\|lr\|weight_decay/);
    expect(() => resolveConfig({ modle: {} })).toThrow(/unknown key modle \(expected one of task\|name\|seed\|backend\|data/);
    // keys are own properties: Object.prototype's members are unknown keys like any other
    expect(() => resolveConfig({ constructor: 1 })).toThrow(/unknown key constructor/);
    expect(() => resolveConfig({ optim: { toString: 1 } })).toThrow(/unknown key optim\.toString/);
    expect(() => resolveConfig({ heads: { fused: { hasOwnProperty: 1 } } })).toThrow(/unknown key heads\.fused\.hasOwnProperty/);
    expect(() => resolveConfig({ heads: { fused: { kind: "arcface", margin: 1 } } })).toThrow(/unknown key heads\.fused\.margin \(expected one of kind\|s\|m\|m_start\|m_warmup\|k\|easy_margin\|weight\)/);
    expect(() => resolveConfig({ heads: { middle: {} } })).toThrow(/unknown key heads\.middle \(expected one of image\|text\|fused\)/);
  });

  it("rejects bad values naming the key and the allowed values", () => {
    expect(() => resolveConfig({ model: { fusion: { kind: "multiply" } } })).toThrow(/bad value for model\.fusion\.kind: "multiply" \(expected one of concat\|add\|residual\|transformer\|none\)/);
    expect(() => resolveConfig({ optim: { batch_size: 0 } })).toThrow(/bad value for optim\.batch_size: 0 \(expected an integer >= 1\)/);
    expect(() => resolveConfig({ train: { evaluate_during_training: "yes" } })).toThrow(/expected true\|false/);
    expect(() => resolveConfig({ data: { fold: 5, folds: 5 } })).toThrow(/data\.fold: 5 \(expected an integer in \[0, 4\]/);
    expect(() => resolveConfig({ heads: { fused: { kind: "arcfase" } } })).toThrow(/expected one of softmax\|arcface\|cosface\|adacos\|subcenter_arcface/);
  });

  it("every shipped config validates, in one dialect for every task", () => {
    const dir = path.resolve(__dirname, "../../configs");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(() => loadConfig(path.join(dir, f)), f).not.toThrow();
    expect(loadConfig(path.join(dir, "classify.yaml")).task).toBe("classify");
    expect(Object.keys(loadConfig(path.join(dir, "study_match.yaml")).grid)).toEqual(["model.fusion.kind", "loss.triplet_weight"]);
  });

  it("takes enum values from the registries and task sections from the task table", () => {
    expect(() => resolveConfig({ task: "detect" })).toThrow(/bad value for task: "detect" \(expected one of match\|classify\)/);
    expect(() => resolveConfig({ optim: { schedule: "exp" } })).toThrow(/expected one of constant\|cosine\|linear\|step/);
    expect(() => resolveConfig({ loss: { class_weights: "log" } })).toThrow(/expected one of none\|inverse\|inverse_sqrt\|effective_number\|power/);
    expect(() => resolveConfig({ backend: "tpu" })).toThrow(/expected one of auto\|tensorflow\|wasm\|cpu/);
    expect(resolveConfig({ task: "classify", classify: { label: "subgroup" } }).classify.label).toBe("subgroup");
    expect(() => resolveConfig({ classify: { label: "subgroup" } })).toThrow(/section classify applies to task: classify only \(this config's task is match\)/);
    expect(() => resolveConfig({ task: "classify", match: { knn: 5 } })).toThrow(/section match applies to task: match only/);
    expect(() => resolveConfig({ task: "classify", classify: { lable: "x" } })).toThrow(/unknown key classify\.lable \(expected one of label\)/);
  });

  it("validates study grids against the schema", () => {
    expect(resolveConfig({ grid: { "model.fusion.kind": ["concat", "add"] } }).grid).toEqual({ "model.fusion.kind": ["concat", "add"] });
    expect(() => resolveConfig({ grid: { "model.fusion.kinds": ["concat"] } })).toThrow(/unknown grid key model\.fusion\.kinds/);
    expect(() => resolveConfig({ grid: { "data.fold": [0, 1] } })).toThrow(/grid key data\.fold cannot vary within a study/);
    expect(() => resolveConfig({ grid: { "optim.lr": [] } })).toThrow(/grid\.optim\.lr must be a non-empty list/);
    expect(() => resolveConfig({ grid: { "optim.lr": [0.1, -1] } })).toThrow(/grid\.optim\.lr: bad value for optim\.lr: -1/);
  });

  it("loads YAML files and names the file in errors", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlcfg-"));
    const f = path.join(dir, "mine.yaml");
    writeFileSync(f, "optim:\n  lr: 0.01\n");
    expect(loadConfig(f).name).toBe("mine");
    writeFileSync(f, "optim:\n  schedule: warm\n");
    expect(() => loadConfig(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: bad value for optim\\.schedule`));
  });

  it("applies CLI overrides with the same checks, returning a new config", () => {
    const c0 = resolveConfig({});
    let c = overrideConfig(c0, "train.max_iters", "7");
    c = overrideConfig(c, "train.evaluate_during_training", "true");
    expect(c0.train.max_iters).toBe(0);
    expect(c.train.max_iters).toBe(7);
    expect(overrideConfig(c, "model.image.widths", "[4, 8]").model.image.widths).toEqual([4, 8]);
    expect(() => overrideConfig(c, "data.fold", "9", "--fold")).toThrow(/--fold: bad value for data\.fold: 9 \(expected an integer in \[0, 4\]/);
    expect(() => overrideConfig(c, "constructor", "1")).toThrow(/unknown key constructor/);
    expect(c.train.evaluate_during_training).toBe(true);
    expect(() => overrideConfig(c, "train.max_iters", "x", "--max_iters")).toThrow(/--max_iters: bad value for train\.max_iters: "x" \(expected an integer >= 0\)/);
    expect(() => overrideConfig(c, "train.nope", "1")).toThrow(/unknown key train\.nope/);
  });
});
