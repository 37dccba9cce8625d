/**
 * ensemble.json: writeEnsembleSpec / readEnsembleSpec round-trip every member kind, and reading
 * refuses what matchlab predict could not apply, naming the file and the field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENSEMBLE_FORMAT, type EnsembleSpec, MEMBER_KINDS, memberName, readEnsembleSpec, writeEnsembleSpec } from "../../src/ensemble/spec";

let work = "";
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "matchlab-spec-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function spec(): EnsembleSpec {
  return {
    format: ENSEMBLE_FORMAT,
    members: [
      { name: "cv-a-s0-1:fused", source: { kind: "run", id: "cv-a-s0-1", branch: "fused" } },
      { name: "tfidf", source: { kind: "tfidf" } },
      { name: "pixels", source: { kind: "pixels" } },
      { name: "chars", source: { kind: "chars" } },
      { name: "emb", source: { kind: "file", file: "/x/emb.f32" } },
    ],
    params: { weights: [1, 0.4, 0.2, 0, 1.5], minSimilarity: 0.625, branchMinSimilarities: [0.9, null, null, null, 0.95], min2: true },
    k: 50,
    inb: 1,
    phash: true,
    scores: { cv_f1_full_gallery: 0.71, f1_in_sample: 0.8, min_similarity_fold_galleries: null },
  };
}

/** Writes `value` (JSON, or raw text) to a fresh file and returns its path. */
let n = 0;
function file(value: unknown, raw = false): string {
  const f = path.join(work, `spec${n++}.json`);
  writeFileSync(f, raw ? String(value) : JSON.stringify(value));
  return f;
}

describe("ensemble.json", () => {
  it("round-trips through write and read, as pretty JSON", () => {
    const f = path.join(work, "ens.json");
    writeEnsembleSpec(f, spec());
    expect(readEnsembleSpec(f)).toEqual(spec());
    const text = readFileSync(f, "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "format": "matchlab-ensemble/1"');
    // rewriting the same file works (atomic replace)
    writeEnsembleSpec(f, { ...spec(), k: 7 });
    expect(readEnsembleSpec(f).k).toBe(7);
  });

  it("names members by their source", () => {
    expect(spec().members.map((m) => memberName(m.source))).toEqual(["cv-a-s0-1:fused", "tfidf", "pixels", "chars", "emb"]);
    expect(memberName({ kind: "file", file: "C:\\a\\b.f32" })).toBe("b");
    expect([...MEMBER_KINDS]).toEqual(["run", "tfidf", "pixels", "chars", "file"]);
  });

  it("rejects a missing file and bad JSON, pointing at what writes the file", () => {
    const missing = path.join(work, "nope.json");
    expect(() => readEnsembleSpec(missing)).toThrow(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ENOENT`));
    const bad = file("{ not json", true);
    expect(() => readEnsembleSpec(bad)).toThrow(/spec\d+\.json: .*JSON.*\(expected the ensemble\.json that matchlab match --save-ensemble writes\)/);
  });

  it("rejects a wrong or missing format", () => {
    expect(() => readEnsembleSpec(file({ ...spec(), format: "matchlab-ensemble/0" }))).toThrow(/format is "matchlab-ensemble\/0", expected "matchlab-ensemble\/1"/);
    const { format: _f, ...noFormat } = spec();
    expect(() => readEnsembleSpec(file(noFormat))).toThrow(/format is undefined, expected "matchlab-ensemble\/1"/);
    expect(() => readEnsembleSpec(file(null))).toThrow(/format is undefined/);
    expect(() => readEnsembleSpec(file([1, 2]))).toThrow(/format is undefined/);
  });

  it("rejects empty members and an unknown member kind, naming its index", () => {
    expect(() => readEnsembleSpec(file({ ...spec(), members: [] }))).toThrow(/members must be a non-empty list/);
    expect(() => readEnsembleSpec(file({ ...spec(), members: "tfidf" }))).toThrow(/members must be a non-empty list/);
    const s = spec();
    (s.members[2]!.source as { kind: string }).kind = "phash";
    expect(() => readEnsembleSpec(file(s))).toThrow(/members\[2\]\.source\.kind is "phash" \(expected one of run\|tfidf\|pixels\|chars\|file\)/);
    const t = spec() as unknown as { members: Array<Record<string, unknown>> };
    delete t.members[0]!.source;
    expect(() => readEnsembleSpec(file(t))).toThrow(/members\[0\]\.source\.kind is undefined/);
  });

  it("rejects params without one weight per member or without a minSimilarity", () => {
    const few = spec();
    few.params.weights = [1, 1];
    expect(() => readEnsembleSpec(file(few))).toThrow(/params must hold one non-negative weight per member and a minSimilarity/);
    const many = spec();
    many.params.weights = [1, 1, 1, 1, 1, 1];
    expect(() => readEnsembleSpec(file(many))).toThrow(/one non-negative weight per member/);
    const noSim = spec() as unknown as { params: Record<string, unknown> };
    delete noSim.params.minSimilarity;
    expect(() => readEnsembleSpec(file(noSim))).toThrow(/and a minSimilarity/);
    expect(() => readEnsembleSpec(file({ ...spec(), params: undefined }))).toThrow(/params must hold/);
    const negative = spec();
    negative.params.weights = negative.params.weights.map(() => -1);
    expect(() => readEnsembleSpec(file(negative))).toThrow(/non-negative weight/);
  });

  it("rejects run members without an id or branch, and a bad inb or phash", () => {
    const noBranch = spec() as unknown as { members: Array<{ source: Record<string, unknown> }> };
    const run = noBranch.members.findIndex((m) => m.source.kind === "run");
    if (run >= 0) {
      delete noBranch.members[run]!.source.branch;
      expect(() => readEnsembleSpec(file(noBranch))).toThrow(new RegExp(`members\\[${run}\\]\\.source needs a run id and a branch`));
    }
    expect(() => readEnsembleSpec(file({ ...spec(), inb: -1 }))).toThrow(/inb must be an integer >= 0/);
    expect(() => readEnsembleSpec(file({ ...spec(), phash: "yes" }))).toThrow(/phash must be true or false/);
  });

  it.each([0, -3, 2.5, "50", null])("rejects k = %s", (k) => {
    expect(() => readEnsembleSpec(file({ ...spec(), k }))).toThrow(new RegExp(`k must be a positive integer, got ${JSON.stringify(k)}`));
  });
});
