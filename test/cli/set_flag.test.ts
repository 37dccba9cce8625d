/**
 * `--set`: repeatable (every occurrence applied, in order: a later one does not silently drop an
 * earlier one), and a value's own commas (YAML lists, maps, quoted strings) stay in the value.
 */
import { describe, expect, it } from "vitest";
import { applyOverrides, configFlags, parseFlags, passFlags } from "../../src/cli/common";
import { ConfigError, parseAssignments } from "../../src/config";
import { tinyConfig } from "../train/fixture";

const parse = (argv: string[]) => parseFlags("train", "", configFlags(), argv)!;

describe("--set", () => {
  it("splits assignments on the commas between them only", () => {
    expect(parseAssignments("optim.lr=3e-4,seed=1")).toEqual([
      ["optim.lr", "3e-4"],
      ["seed", "1"],
    ]);
    expect(parseAssignments(`optim.param_groups=[{match: "^(a|b)", lr: 0}, {match: 'c,d', lr: 1}],seed=2,name="x,y"`)).toEqual([
      ["optim.param_groups", `[{match: "^(a|b)", lr: 0}, {match: 'c,d', lr: 1}]`],
      ["seed", "2"],
      ["name", `"x,y"`],
    ]);
    expect(() => parseAssignments("optim.lr")).toThrow(ConfigError);
  });

  it("applies every --set in order, lists and maps as YAML", () => {
    const p = parse(["--set", `optim.param_groups=[{match: "^block_", lr: 0.0001}, {match: "^head", lr: 0.01, weight_decay: 0}]`, "--set", "seed=5,optim.lr=0.002", "--set", "seed=6"]);
    const c = applyOverrides(tinyConfig(), p);
    expect(c.optim.param_groups).toEqual([
      { match: "^block_", lr: 0.0001 },
      { match: "^head", lr: 0.01, weight_decay: 0 },
    ]);
    expect([c.seed, c.optim.lr]).toEqual([6, 0.002]);
    // passed on to a child command (cv → train) as the same repeated flags
    expect(passFlags(p, ["set"])).toEqual(["--set", (p.values.set as string[])[0]!, "--set", "seed=5,optim.lr=0.002", "--set", "seed=6"]);
  });

  it("a bad list value is a named ConfigError", () => {
    expect(() => applyOverrides(tinyConfig(), parse(["--set", "optim.param_groups=[{match: x, lr: -1}]"]))).toThrow(/optim\.param_groups\[0\]\.lr: -1 \(expected a number >= 0\)/);
  });
});
