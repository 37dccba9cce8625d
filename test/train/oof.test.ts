/**
 * mergeOofEmbeddings over fake fold runs (`<tmp>/rK/oof/<branch>.f32` written with
 * writeEmbeddingsFile): the merge follows the fold order, its sidecars say where each row came
 * from, and it refuses overlapping folds, uncovered postings, and folds that disagree on branches
 * or widths.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEmbeddingsFile, writeEmbeddingsFile } from "../../src/retrieval/embedding_file";
import { mergeOofEmbeddings } from "../../src/train/oof";

let work = "";
let caseNo = 0;
const DIM = 4;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-oof-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Distinct rows: value = 100·fold + 10·row + column (+ 0.5 on the image branch). */
function rowsOf(fold: number, n: number, dim: number, branch: string): Float32Array {
  return Float32Array.from({ length: n * dim }, (_, i) => 100 * fold + 10 * Math.floor(i / dim) + (i % dim) + (branch === "image" ? 0.5 : 0));
}

interface FakeFold {
  ids: string[];
  branches?: string[];
  dim?: number;
  /** Leave the posting ids out of the sidecar. */
  noIds?: boolean;
}

/** Writes fake fold runs r0, r1, … under a fresh folder; returns their folders. */
function fakeRuns(folds: FakeFold[]): string[] {
  const base = path.join(work, `case${caseNo++}`);
  return folds.map((f, k) => {
    const dir = path.join(base, `r${k}`);
    mkdirSync(dir, { recursive: true });
    for (const branch of f.branches ?? ["fused", "image"]) {
      const dim = f.dim ?? DIM;
      writeEmbeddingsFile(path.join(dir, "oof", `${branch}.f32`), rowsOf(k, f.ids.length, dim, branch), dim, {
        ...(f.noIds ? {} : { postingIds: f.ids }),
        name: `r${k}:${branch}`,
        oof: true,
        branch,
        fold: k,
        run: `r${k}`,
        checkpoint: "best.ckpt",
      });
    }
    return dir;
  });
}

const FOLDS: FakeFold[] = [{ ids: ["a", "b"] }, { ids: ["c", "d", "e"] }, { ids: ["f"] }];

describe("mergeOofEmbeddings", () => {
  it("concatenates every branch in fold order, with sidecars naming folds, runs and checkpoints", () => {
    const runs = fakeRuns(FOLDS);
    const out = path.join(path.dirname(runs[0]!), "cv-x", "oof");
    const merged = mergeOofEmbeddings(runs, out, ["f", "e", "d", "c", "b", "a"]);
    expect(merged).toEqual({ branches: ["fused", "image"], rows: 6, runs: ["r0", "r1", "r2"] });
    for (const branch of ["fused", "image"]) {
      const e = readEmbeddingsFile(path.join(out, `${branch}.f32`));
      expect(e.dim).toBe(DIM);
      expect(e.rows).toBe(6);
      expect(e.postingIds).toEqual(["a", "b", "c", "d", "e", "f"]);
      expect(Array.from(e.data)).toEqual([...rowsOf(0, 2, DIM, branch), ...rowsOf(1, 3, DIM, branch), ...rowsOf(2, 1, DIM, branch)]);
      expect(e.oof).toBe(true);
      expect(e.name).toBe(`cv-x:${branch}`);
      expect(e.meta).toMatchObject({ branch, fold: [0, 1, 2], run: "cv-x", checkpoint: ["r0/best.ckpt", "r1/best.ckpt", "r2/best.ckpt"] });
      const side = JSON.parse(readFileSync(path.join(out, `${branch}.json`), "utf8"));
      expect(Object.keys(side).sort()).toEqual(["branch", "checkpoint", "dim", "fold", "format", "name", "oof", "postingIds", "rows", "run"]);
    }
  });

  it("follows the order of the runs given, and names the merge as asked", () => {
    const runs = fakeRuns(FOLDS);
    const out = path.join(work, "other", "oof");
    const merged = mergeOofEmbeddings([runs[2]!, runs[0]!, runs[1]!], out, undefined, "mycv");
    expect(merged.runs).toEqual(["r2", "r0", "r1"]);
    const e = readEmbeddingsFile(path.join(out, "fused.f32"));
    expect(e.postingIds).toEqual(["f", "a", "b", "c", "d", "e"]);
    expect(Array.from(e.data.subarray(0, DIM))).toEqual(Array.from(rowsOf(2, 1, DIM, "fused")));
    expect(e.meta).toMatchObject({ run: "mycv", fold: [2, 0, 1], name: "mycv:fused" });
  });

  it("throws on a posting in two folds, naming it and both files", () => {
    const runs = fakeRuns([{ ids: ["a", "b"] }, { ids: ["c", "b"] }]);
    expect(() => mergeOofEmbeddings(runs, path.join(work, "dup", "oof"))).toThrow(/posting b is in both .*r0[\\/]oof[\\/]fused\.f32 and .*r1[\\/]oof[\\/]fused\.f32 \(folds must not overlap\)/);
  });

  it("throws on a posting in no fold when the dataset's ids are given", () => {
    const runs = fakeRuns(FOLDS);
    expect(() => mergeOofEmbeddings(runs, path.join(work, "miss", "oof"), ["a", "b", "c", "d", "e", "f", "g", "h"])).toThrow(
      /2 of 8 postings are in no fold's validation rows \(e\.g\. g, h\): train every fold/,
    );
    // without the dataset's ids the same folds merge
    expect(mergeOofEmbeddings(runs, path.join(work, "miss2", "oof")).rows).toBe(6);
  });

  it("throws when the folds hold postings the dataset lacks", () => {
    const runs = fakeRuns(FOLDS);
    expect(() => mergeOofEmbeddings(runs, path.join(work, "extra", "oof"), ["a", "b", "c", "d", "e"])).toThrow(/the folds hold 6 postings, the dataset 5/);
  });

  it("throws on folds with different branches", () => {
    const runs = fakeRuns([{ ids: ["a"] }, { ids: ["b"], branches: ["fused"] }]);
    expect(() => mergeOofEmbeddings(runs, path.join(work, "br", "oof"))).toThrow(/r1 has branches fused, expected fused\|image like .*r0/);
  });

  it("throws on folds of different widths", () => {
    const runs = fakeRuns([{ ids: ["a"] }, { ids: ["b"], dim: 3 }]);
    expect(() => mergeOofEmbeddings(runs, path.join(work, "dim", "oof"))).toThrow(/r1[\\/]oof[\\/]fused\.f32 has dim 3, expected 4/);
  });

  it("throws on a fold file without posting ids, a run without oof files, and no runs", () => {
    const noIds = fakeRuns([{ ids: ["a"] }, { ids: ["b"], noIds: true }]);
    expect(() => mergeOofEmbeddings(noIds, path.join(work, "noids", "oof"))).toThrow(/r1[\\/]oof[\\/]fused\.f32 has no posting ids in its sidecar/);
    const bare = path.join(work, "bare-run");
    mkdirSync(bare, { recursive: true });
    expect(() => mergeOofEmbeddings([bare], path.join(work, "bare", "oof"))).toThrow(/bare-run has no oof\/<branch>\.f32 \(only matching runs with validation rows write them\)/);
    const runs = fakeRuns([{ ids: ["a"] }]);
    expect(() => mergeOofEmbeddings([runs[0]!, bare], path.join(work, "bare2", "oof"))).toThrow(/bare-run has branches none, expected fused\|image/);
    expect(() => mergeOofEmbeddings([], path.join(work, "none", "oof"))).toThrow(/no runs to merge/);
  });
});
