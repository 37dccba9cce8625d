/**
 * The README's competition loop, run verbatim: every line between `<!-- loop:start -->` and
 * `<!-- loop:end -->` in README.md goes through bash from the project root, on the sample dataset
 * (MATCHLAB_DATASET) with runs in a temporary folder (MATCHLAB_RUNS_DIR), so the README cannot
 * promise what no command produces.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, SAMPLE, ensureSample, readmeBlock, sh } from "./readme_blocks";


let runs = "";
beforeAll(async () => {
  await ensureSample();
  runs = mkdtempSync(path.join(os.tmpdir(), "ml-readme-loop-"));
});

describe("the README's competition loop", () => {
  it("has the loop's commands, each a matchlab command", () => {
    const cmds = readmeBlock("loop");
    expect(cmds.map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual(["npx matchlab holdout", "npx matchlab cv", "npx matchlab cv", "npx matchlab match", "npx matchlab predict", "npx matchlab score"]);
  });

  it("runs verbatim on the sample and scores the held-out test set", async () => {
    const cmds = readmeBlock("loop");
    const env = { ...process.env, MATCHLAB_DATASET: SAMPLE, MATCHLAB_RUNS_DIR: runs, MATCHLAB_QUIET: "1" };
    let last = "";
    for (const cmd of cmds) {
      const r = await sh(cmd, env);
      expect(r.code, `${cmd}\n${r.stderr}`).toBe(0);
      last = r.stdout;
    }
    // the loop produced what the next command reads
    for (const id of ["loop-quick", "loop-transformer"]) {
      const cv = JSON.parse(readFileSync(path.join(runs, id, "cv.json"), "utf8"));
      expect(cv.folds).toHaveLength(3);
      expect(cv.oof.branches).toContain("fused");
    }
    const ensemble = JSON.parse(readFileSync(path.join(ROOT, "runs", "loop-ensemble.json"), "utf8"));
    expect(ensemble.members.map((m: { name: string }) => m.name)).toEqual(["loop-quick:fused", "loop-transformer:fused", "tfidf"]);
    const test = readFileSync(path.join(ROOT, "data", "holdout", "test.csv"), "utf8").trim().split("\n");
    const sub = readFileSync(path.join(ROOT, "runs", "loop-submission.csv"), "utf8").trim().split("\n");
    expect(sub.length).toBe(test.length);
    const f1 = Number(last.match(/^F1 ([0-9.]+)/)?.[1]);
    expect(f1).toBeGreaterThan(0.3);
    expect(f1).toBeLessThanOrEqual(1);
  }, 1_500_000);
});
