/**
 * The README's recipe block (`<!-- recipes:start -->` … `<!-- recipes:end -->`), run on the sample: the
 * fast recipe's 5-fold cv shortened to 3 folds of 3 steps (`--folds 3 --max_iters 3`, on the sample),
 * then every `match` line verbatim (per branch, the trained ensemble, with the baseline branches, the
 * baselines alone), each printing the nested-CV F1 on the whole OOF set as one gallery, and the
 * `score --by-size` of the trained ensemble's OOF submission against the sample's labels.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, SAMPLE, ensureSample, readmeBlock, sh } from "./readme_blocks";

let runs = "";

beforeAll(async () => {
  await ensureSample();
  runs = mkdtempSync(path.join(os.tmpdir(), "ml-readme-recipes-"));
});

/** The line as the test runs it: cv shortened and pointed at the sample, score's labels the sample's; match lines verbatim. */
const shorten = (cmd: string) =>
  cmd.startsWith("npx matchlab cv ") ? `${cmd} --dataset ${JSON.stringify(SAMPLE)} --folds 3 --max_iters 3` : cmd.replace("data/emoji-match/train.csv", JSON.stringify(path.join(SAMPLE, "train.csv")));

describe("the README's recipes", () => {
  it("are one fast cv, then match lines over its branches, then a score by group size", () => {
    const cmds = readmeBlock("recipes");
    expect(cmds[0]).toMatch(/^npx matchlab cv --config configs\/fast\.yaml /);
    expect(cmds.slice(1, -1).every((c) => c.startsWith("npx matchlab match ") && c.includes("--tune"))).toBe(true);
    expect(cmds.at(-1)).toMatch(/^npx matchlab score --submission runs\/fast-trained\.csv .*--by-size$/);
  });

  it("run on the sample (cv shortened), every match reporting a whole-gallery nested-CV F1", async () => {
    const env = { ...process.env, MATCHLAB_DATASET: SAMPLE, MATCHLAB_RUNS_DIR: runs, MATCHLAB_QUIET: "1" };
    const members: string[][] = [];
    for (const cmd of readmeBlock("recipes")) {
      const r = await sh(shorten(cmd), env);
      expect(r.code, `${cmd}\n${r.stderr}`).toBe(0);
      if (cmd.startsWith("npx matchlab score ")) {
        expect(r.stdout).toMatch(/^F1 0\.\d{4} \(precision .*\) over 907 postings\ngroup size\s+groups\s+postings\s+F1/);
        expect(r.stdout).toMatch(/\n2\s+\d+\s+\d+\s+0\.\d{4}/);
      }
      if (!cmd.startsWith("npx matchlab match ")) continue;
      const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
      expect(res.cvF1, cmd).toBeGreaterThan(0);
      expect(res.cvF1, cmd).toBeLessThanOrEqual(1);
      members.push(res.branches);
    }
    const cv = JSON.parse(readFileSync(path.join(runs, "fast", "cv.json"), "utf8"));
    expect(cv.folds).toHaveLength(3);
    expect([...cv.oof.branches].sort()).toEqual(["fused", "image", "text"]);
    expect(members).toContainEqual(["fast:image", "fast:text", "fast:fused"]);
    expect(members).toContainEqual(["fast:image", "fast:text", "fast:fused", "pixels", "chars", "tfidf"]);
    const saved = JSON.parse(readFileSync(path.join(ROOT, "runs", "fast-ensemble.json"), "utf8"));
    expect(saved.members.map((m: { name: string }) => m.name)).toEqual(["fast:image", "fast:text", "fast:fused", "pixels", "chars", "tfidf"]);
  }, 1_500_000);
});
