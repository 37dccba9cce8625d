/**
 * The competition loop end to end through the real CLI (issue 14's "done when"), each command a
 * child process (`node bin/matchlab.js …`) on a tiny generated dataset, everything under a temp
 * folder: holdout → cv of two configs (cpu with --parallel 2; wasm with a transformer text encoder)
 * → match --tune with both cvs and TF-IDF, saving ensemble.json → predict on the unlabelled test
 * set → score against the held-out labels. Checks that the out-of-fold files cover every training
 * posting once, the submission covers every test posting once, score's F1 agrees with
 * matchScores over the CSVs, and the tuned ensemble is no worse than either member tuned alone.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/data/csv";
import { readEnsembleSpec } from "../../src/ensemble/spec";
import { matchScores } from "../../src/metrics/matching";
import { readEmbeddingsFile } from "../../src/retrieval/embedding_file";
import { writeTinyDataset } from "../train/fixture";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "matchlab.js");
let work = "";
let d2 = "";
let runsDir = "";

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `matchlab <args>` in a child process from the repo root, quiet, with a temp cache. */
function matchlab(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1", MATCHLAB_CACHE_DIR: path.join(work, "cache") } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (s: string) =>
  s
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
const lastJson = (s: string) => jsonLines(s).pop();
const csv = (file: string) => parseCsv(readFileSync(file, "utf8"), file);

/** Two tiny configs that differ in architecture and backend; 3 group folds of the 48 training rows. */
const CONFIGS = {
  a: [
    "name: loopa",
    "seed: 1",
    "backend: cpu",
    "data: { folds: 3, image_size: 8, augment: [{ horizontalFlip: { p: 0.5 } }] }",
    "model: { image: { widths: [4, 8] }, text: { dim: 32 }, fusion: { kind: concat }, embedding_dim: 8, dropout: 0 }",
    "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }",
    "optim: { batch_size: 4, epochs: 2, lr: 0.01 }",
    "train: { log_period: 0, warmup_steps: 2 }",
    "eval: { batch_size: 16 }",
    "match: { knn: 10 }",
  ],
  b: [
    "name: loopb",
    "seed: 2",
    "backend: wasm",
    "data: { folds: 3, image_size: 8 }",
    "model: { image: { widths: [4] }, text: { encoder: transformer, vocab: 64, max_len: 6, width: 8, heads: 2 }, embedding_dim: 8, dropout: 0 }",
    "heads: { fused: { kind: cosface, s: 10, m: 0.1 } }",
    "optim: { batch_size: 4, epochs: 1, lr: 0.01 }",
    "train: { log_period: 0, warmup_steps: 1 }",
    "eval: { batch_size: 16 }",
    "match: { knn: 10 }",
  ],
};

let trainIds: string[] = [];
let testIds: string[] = [];
const cvIds: Record<"a" | "b", string> = { a: "", b: "" };

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-loop-"));
  runsDir = path.join(work, "runs");
  d2 = path.join(work, "D2");
  // 16 label groups × 4 listings: a 0.25 holdout keeps 12 groups (48 rows) for 3 folds of 4 groups
  await writeTinyDataset(path.join(work, "ds"), { groups: 16, per: 4, phashColumn: true });
  for (const [k, lines] of Object.entries(CONFIGS)) writeFileSync(path.join(work, `${k}.yaml`), `${lines.join("\n")}\n`);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the competition loop through the CLI", () => {
  it("holdout writes an unlabelled test set beside the training set", async () => {
    const r = await matchlab(["holdout", "--dataset", path.join(work, "ds"), "--frac", "0.25", "--out", d2, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toEqual({ out: d2, train: 48, test: 16, groups_held: 4 });
    const test = csv(path.join(d2, "test.csv"));
    expect(test.header).toEqual(["posting_id", "image", "image_phash", "title"]);
    expect(test.header).not.toContain("label_group");
    testIds = test.rows.map((row) => row[0]!);
    expect(csv(path.join(d2, "test_labels.csv")).rows.map((row) => row[0])).toEqual(testIds);
    const train = csv(path.join(d2, "train.csv"));
    expect(train.header).toContain("label_group");
    trainIds = train.rows.map((row) => row[0]!);
    expect(trainIds).toHaveLength(48);
    expect(testIds.some((id) => trainIds.includes(id))).toBe(false);
  }, 120_000);

  it("cv trains two configs (one two folds at a time) and merges out-of-fold embeddings of every training posting once", async () => {
    const cv = (k: "a" | "b", extra: string[]) => matchlab(["cv", "--config", path.join(work, `${k}.yaml`), "--dataset", d2, "--runs-dir", runsDir, "--json", ...extra]);
    const [ra, rb] = await Promise.all([cv("a", ["--parallel", "2"]), cv("b", [])]);
    for (const [k, r] of [["a", ra], ["b", rb]] as const) {
      expect(r.code, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines).toHaveLength(4);
      expect(lines.slice(0, 3).map((l) => [l.fold, l.code, l.task])).toEqual([
        [0, 0, "match"],
        [1, 0, "match"],
        [2, 0, "match"],
      ]);
      const last = lines[3];
      expect(last).toMatchObject({ task: "match", metric: "val_f1", folds: 3, ok: 3, oof_rows: trainIds.length });
      expect(last.cv).toMatch(new RegExp(`^cv-loop${k}-s\\d-`));
      cvIds[k] = last.cv;
      const rec = JSON.parse(readFileSync(path.join(runsDir, last.cv, "cv.json"), "utf8"));
      expect(rec.folds.map((f: { run: string }) => f.run)).toEqual(lines.slice(0, 3).map((l) => l.run));
      for (const branch of ["image", "text", "fused"]) {
        const e = readEmbeddingsFile(path.join(runsDir, last.cv, "oof", `${branch}.f32`));
        expect(e.rows).toBe(trainIds.length);
        expect(e.postingIds).toHaveLength(trainIds.length);
        expect(new Set(e.postingIds).size).toBe(trainIds.length);
        expect([...e.postingIds!].sort()).toEqual([...trainIds].sort());
        expect(e.meta).toMatchObject({ oof: true, branch, run: last.cv, fold: [0, 1, 2] });
        expect(e.data.every(Number.isFinite)).toBe(true);
      }
    }
    expect(cvIds.a).not.toBe(cvIds.b);
  }, 600_000);

  let ensembleF1 = Number.NaN;
  const ens = () => path.join(work, "ens.json");

  it("match --tune builds the ensemble of both cvs and TF-IDF and saves its rule", async () => {
    const r = await matchlab(["match", "--runs", `${cvIds.a},${cvIds.b}`, "--tfidf", "--dataset", d2, "--tune", "coordinate", "--save-ensemble", ens(), "--out", path.join(work, "oof.csv"), "--json", "--runs-dir", runsDir]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.postings).toBe(trainIds.length);
    expect(j.branches).toEqual([`${cvIds.a}:fused`, `${cvIds.b}:fused`, "tfidf"]);
    expect(j.ensemble).toBe(ens());
    for (const key of ["cv_f1_fold_galleries", "cv_f1_full_gallery", "min_similarity_fold_galleries", "min_similarity_full_gallery", "fold_rule_on_full_gallery_f1", "f1_in_sample"]) {
      expect(Number.isFinite(j.scores[key]), key).toBe(true);
    }
    ensembleF1 = j.scores.f1_in_sample;
    expect(j.f1).toBe(ensembleF1);
    const spec = readEnsembleSpec(ens());
    expect(spec.members.map((m) => m.source)).toEqual([
      { kind: "run", id: cvIds.a, branch: "fused" },
      { kind: "run", id: cvIds.b, branch: "fused" },
      { kind: "tfidf" },
    ]);
    expect(spec.params).toEqual(j.params);
    expect(spec.scores.f1_in_sample).toBe(ensembleF1);
    expect(csv(path.join(work, "oof.csv")).rows.map((row) => row[0])).toEqual(trainIds);
  }, 300_000);

  it("the tuned ensemble is no worse on the out-of-fold rows than either member tuned alone", async () => {
    // scores only for b: without --out, match writes no submission
    const single = (k: "a" | "b") => matchlab(["match", "--runs", cvIds[k], "--dataset", d2, "--tune", "coordinate", "--json", ...(k === "a" ? ["--out", path.join(work, "oof-a.csv")] : []), "--runs-dir", runsDir]);
    const [ra, rb] = await Promise.all([single("a"), single("b")]);
    expect(lastJson(rb.stdout).out).toBeNull();
    expect(existsSync(path.join(work, "oof-a.csv"))).toBe(true);
    expect(readdirSync(work).filter((f) => f.startsWith("oof-"))).toEqual(["oof-a.csv"]);
    for (const r of [ra, rb]) {
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r.stdout);
      expect(j.branches).toHaveLength(1);
      expect(Number.isFinite(j.scores.f1_in_sample)).toBe(true);
      expect(ensembleF1).toBeGreaterThanOrEqual(j.scores.f1_in_sample - 1e-9);
    }
  }, 300_000);

  it("predict applies the ensemble to the unlabelled test set, and score agrees with matchScores over the CSVs", async () => {
    const sub = path.join(work, "sub.csv");
    const p = await matchlab(["predict", "--ensemble", ens(), "--dataset", d2, "--out", sub, "--json", "--runs-dir", runsDir]);
    expect(p.code, p.stderr).toBe(0);
    expect(lastJson(p.stdout)).toMatchObject({ out: sub, postings: testIds.length, members: [`${cvIds.a}:fused`, `${cvIds.b}:fused`, "tfidf"], f1: null });

    const t = csv(sub);
    expect(t.header).toEqual(["posting_id", "matches"]);
    const ids = t.rows.map((row) => row[0]!);
    expect(ids).toHaveLength(testIds.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...testIds].sort());
    const test = new Set(testIds);
    for (const [id, matches] of t.rows) {
      const m = matches!.split(" ");
      expect(m, `${id} matches itself`).toContain(id);
      for (const x of m) expect(test.has(x), `${id} matches ${x}, not a test posting`).toBe(true);
    }

    const labelsFile = path.join(d2, "test_labels.csv");
    const s = await matchlab(["score", "--submission", sub, "--labels", labelsFile, "--json"]);
    expect(s.code, s.stderr).toBe(0);
    const score = lastJson(s.stdout);
    expect(score.postings).toBe(testIds.length);
    expect(Number.isFinite(score.f1)).toBe(true);
    expect(score.f1).toBeGreaterThan(0);
    expect(score.f1).toBeLessThanOrEqual(1);
    // the same metric recomputed here from the two CSVs
    const labels = csv(labelsFile).rows;
    const at = new Map(labels.map(([id], i) => [id!, i]));
    const groups = new Map<string, number>();
    const codes = Int32Array.from(labels, ([, g]) => {
      if (!groups.has(g!)) groups.set(g!, groups.size);
      return groups.get(g!)!;
    });
    const byId = new Map(t.rows.map(([id, m]) => [id!, m!]));
    const sets = labels.map(([id]) => byId.get(id!)!.split(" ").map((x) => at.get(x)!));
    const want = matchScores(sets, codes);
    expect(Math.abs(score.f1 - want.f1)).toBeLessThan(1e-12);
    expect(Math.abs(score.precision - want.precision)).toBeLessThan(1e-12);
    expect(Math.abs(score.recall - want.recall)).toBeLessThan(1e-12);
  }, 300_000);

  it("predict fails naming the ensemble file when it is missing", async () => {
    const missing = path.join(work, "nowhere", "ens.json");
    const out = path.join(work, "never.csv");
    const r = await matchlab(["predict", "--ensemble", missing, "--dataset", d2, "--out", out, "--runs-dir", runsDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/ENOENT|no such file/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
