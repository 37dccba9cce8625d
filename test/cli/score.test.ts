// matchlab score --by-size: the competition metric broken down by true group size, in bands.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./run_cli";

describe("matchlab score --by-size", () => {
  // groups: g1 of 2 (a1 a2), g2 of 3 (b1 b2 b3); each posting finds itself and one more of its group
  const dir = mkdtempSync(path.join(os.tmpdir(), "ml-score-"));
  const labels = path.join(dir, "labels.csv");
  const sub = path.join(dir, "sub.csv");
  writeFileSync(labels, "posting_id,label_group\na1,g1\na2,g1\nb1,g2\nb2,g2\nb3,g2\n");
  writeFileSync(sub, "posting_id,matches\na1,a1 a2\na2,a2 a1\nb1,b1 b2\nb2,b2 b1\nb3,b3 b1\n");

  it("JSON: by_size bands with their groups, postings and mean F1", async () => {
    const r = await runCli(["score", "--submission", sub, "--labels", labels, "--by-size", "--json"]);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out.trim());
    // size 2: F1 1 for both; size 3: each finds 2 of 3 with precision 1 → F1 0.8
    expect(out.f1).toBeCloseTo((2 * 1 + 3 * 0.8) / 5, 12);
    expect(out.by_size).toHaveLength(2);
    expect(out.by_size[0]).toMatchObject({ from: 2, to: 2, groups: 1, count: 2, f1: 1, precision: 1, recall: 1 });
    expect(out.by_size[1]).toMatchObject({ from: 3, to: 4, groups: 1, count: 3, precision: 1 });
    expect(out.by_size[1].f1).toBeCloseTo(0.8, 12);
    expect(out.by_size[1].recall).toBeCloseTo(2 / 3, 12);
  });

  it("text: a table after the F1 line; without the flag, the F1 line only", async () => {
    const r = await runCli(["score", "--submission", sub, "--labels", labels, "--by-size"]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^F1 0\.8800 \(precision 1\.0000, recall 0\.8000\) over 5 postings$/);
    expect(lines[1]).toMatch(/^group size\s+groups\s+postings\s+F1\s+precision\s+recall$/);
    expect(lines.slice(3)).toEqual([expect.stringMatching(/^2\s+1\s+2\s+1\.0000\s+1\.0000\s+1\.0000$/), expect.stringMatching(/^3–4\s+1\s+3\s+0\.8000\s+1\.0000\s+0\.6667$/)]);
    const plain = await runCli(["score", "--submission", sub, "--labels", labels]);
    expect(plain.out.trim().split("\n")).toHaveLength(1);
  });
});
