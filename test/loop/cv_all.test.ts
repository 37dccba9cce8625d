/**
 * "Train on everything": `matchlab cv --all` trains a model on every row beside the folds, records it
 * in cv.json, and `matchlab predict --with-all` averages it in with the fold models.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { memberRuns } from "../../src/train/cv";
import { matchlabCli } from "../cli/spawn_cli";
import { writeTinyDataset } from "../train/fixture";

let work = "";

const matchlab = (args: string[]) => matchlabCli([...args, "--runs-dir", path.join(work, "runs")], { MATCHLAB_CACHE_DIR: path.join(work, "cache") });

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-cv-all-"));
  await writeTinyDataset(path.join(work, "ds"), { groups: 12, per: 3 });
  writeFileSync(
    path.join(work, "tiny.yaml"),
    [
      "name: tiny",
      "backend: cpu",
      `data: { dataset: ${JSON.stringify(path.join(work, "ds"))}, folds: 2, image_size: 8 }`,
      "model: { image: { widths: [4] }, text: { dim: 32 }, embedding_dim: 8 }",
      "optim: { batch_size: 4, epochs: 1 }",
      "train: { log_period: 0 }",
      "match: { knn: 10 }",
      "",
    ].join("\n"),
  );
});

describe("matchlab cv --all", () => {
  it("trains an every-row model beside the folds, and predict --with-all averages it in", async () => {
    const cv = await matchlab(["cv", "--config", path.join(work, "tiny.yaml"), "--all", "--id", "tiny-cv", "--json"]);
    expect(cv.code, cv.stderr).toBe(0);
    const lines = cv.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.fold)).toEqual([0, 1, "all", undefined]);
    const all = lines[2];
    expect(all).toMatchObject({ best: null, untrained: null });
    expect(all.steps).toBeGreaterThan(lines[0].steps); // every row, not a fold's training rows
    const rec = JSON.parse(readFileSync(path.join(work, "runs", "tiny-cv", "cv.json"), "utf8"));
    expect(rec.all.run).toBe(all.run);
    expect(rec.folds).toHaveLength(2);
    expect(rec.oof.rows).toBe(36); // the every-row model adds no out-of-fold rows
    expect(existsSync(path.join(work, "runs", all.run, "oof"))).toBe(false);
    expect(memberRuns(path.join(work, "runs"), "tiny-cv", true)).toEqual([lines[0].run, lines[1].run, all.run]);
    expect(memberRuns(path.join(work, "runs"), "tiny-cv")).toEqual([lines[0].run, lines[1].run]);
    expect(lines[3]).toMatchObject({ folds: 2, ok: 2, all: all.run });

    const csv = readFileSync(path.join(work, "ds", "train.csv"), "utf8");
    const out = path.join(work, "sub.csv");
    const pr = await matchlab(["predict", "--runs", "tiny-cv", "--with-all", "--dataset", path.join(work, "ds"), "--csv", "train.csv", "--backend", "cpu", "--out", out, "--json"]);
    expect(pr.code, pr.stderr).toBe(0);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(csv.trim().split("\n").length);
    const without = await matchlab(["predict", "--runs", "tiny-cv", "--dataset", path.join(work, "ds"), "--csv", "train.csv", "--backend", "cpu", "--out", path.join(work, "sub2.csv")]);
    expect(without.code, without.stderr).toBe(0);
    const noAll = await matchlab(["cv", "--config", path.join(work, "tiny.yaml"), "--id", "tiny-cv2", "--max_iters", "1"]);
    expect(noAll.code, noAll.stderr).toBe(0);
    const refused = await matchlab(["predict", "--runs", "tiny-cv2", "--with-all", "--dataset", path.join(work, "ds"), "--csv", "train.csv", "--backend", "cpu", "--out", path.join(work, "sub3.csv")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cv tiny-cv2 has no model trained on every row \(train it with matchlab cv --all\)/);
  }, 600_000);
});
