import { mkdtempSync, writeFileSync } from "node:fs";
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
    expect(() => resolveConfig({ modle: {} })).toThrow(/unknown key modle \(expected one of name\|seed\|backend\|data/);
    expect(() => resolveConfig({ heads: { fused: { kind: "arcface", margin: 1 } } })).toThrow(/unknown key heads\.fused\.margin \(expected one of kind\|s\|m\|k\|easy_margin\|weight\)/);
    expect(() => resolveConfig({ heads: { middle: {} } })).toThrow(/unknown key heads\.middle \(expected one of image\|text\|fused\)/);
  });

  it("rejects bad values naming the key and the allowed values", () => {
    expect(() => resolveConfig({ model: { fusion: { kind: "multiply" } } })).toThrow(/bad value for model\.fusion\.kind: "multiply" \(expected one of concat\|add\|residual\|transformer\|none\)/);
    expect(() => resolveConfig({ optim: { batch_size: 0 } })).toThrow(/bad value for optim\.batch_size: 0 \(expected an integer >= 1\)/);
    expect(() => resolveConfig({ train: { evaluate_during_training: "yes" } })).toThrow(/expected true\|false/);
    expect(() => resolveConfig({ data: { fold: 5, folds: 5 } })).toThrow(/data\.fold: 5 \(expected an integer in \[0, 4\]/);
    expect(() => resolveConfig({ heads: { fused: { kind: "arcfase" } } })).toThrow(/expected one of softmax\|arcface\|cosface\|adacos\|subcenter_arcface/);
  });

  it("the shipped training configs validate", () => {
    const dir = path.resolve(__dirname, "../../configs");
    for (const f of ["quick.yaml", "transformer.yaml"]) expect(() => loadConfig(path.join(dir, f))).not.toThrow();
  });

  it("loads YAML files and names the file in errors", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlcfg-"));
    const f = path.join(dir, "mine.yaml");
    writeFileSync(f, "optim:\n  lr: 0.01\n");
    expect(loadConfig(f).name).toBe("mine");
    writeFileSync(f, "optim:\n  schedule: warm\n");
    expect(() => loadConfig(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: bad value for optim\\.schedule`));
  });

  it("applies CLI overrides with the same checks", () => {
    const c = resolveConfig({});
    overrideConfig(c, "train.max_iters", "7");
    overrideConfig(c, "train.evaluate_during_training", "true");
    expect(c.train.max_iters).toBe(7);
    expect(c.train.evaluate_during_training).toBe(true);
    expect(() => overrideConfig(c, "train.max_iters", "x", "--max_iters")).toThrow(/--max_iters: bad value for train\.max_iters: "x" \(expected an integer >= 0\)/);
    expect(() => overrideConfig(c, "train.nope", "1")).toThrow(/unknown key train\.nope/);
  });
});
