import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { command } from "../../src/cli/match";
import { formatCsv, parseCsv } from "../../src/data/csv";
import { matchScores } from "../../src/metrics/matching";
import { readEmbeddingsFile, writeEmbeddingsFile } from "../../src/retrieval/embedding_file";
import { clustered } from "./fixtures";

const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-match-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny Shopee-layout dataset whose rows follow a clustered embedding fixture. */
function fixture() {
  const { data, labels, dim, n } = clustered(11, 20, 3, 16, 0.5);
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const words = ["red", "blue", "green", "apple", "shoe", "bag", "phone", "cable", "lamp", "desk"];
  const rows = ids.map((id, i) => [id, `${id}.png`, labels[i]! % 4 === 0 ? `ph${labels[i]}` : `u${i}`, `${words[labels[i]! % 10]} ${words[(labels[i]! * 3) % 10]} item ${labels[i]}`, `g${labels[i]}`]);
  writeFileSync(path.join(dir, "train.csv"), formatCsv(["posting_id", "image", "image_phash", "title", "label_group"], rows));
  return { data, labels, dim, n, ids };
}

describe("matchlab match", () => {
  const f = fixture();
  // the file stores rows in reverse order, with ids: the command must realign them
  const rev = new Float32Array(f.data.length);
  for (let i = 0; i < f.n; i++) rev.set(f.data.subarray(i * f.dim, (i + 1) * f.dim), (f.n - 1 - i) * f.dim);
  const embFile = path.join(dir, "emb.f32");
  writeEmbeddingsFile(embFile, rev, f.dim, { postingIds: [...f.ids].reverse(), name: "toy" });

  it("round-trips embedding files", () => {
    const e = readEmbeddingsFile(embFile);
    expect(e.dim).toBe(f.dim);
    expect(e.rows).toBe(f.n);
    expect(e.name).toBe("toy");
    expect(Array.from(e.data)).toEqual(Array.from(rev));
    expect(readdirSync(dir).filter((x) => x.includes(".tmp-"))).toEqual([]);
  });

  it("writes posting_id,matches atomically; every posting matches itself", async () => {
    const out = path.join(dir, "submission.csv");
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const code = await command.run(["--embeddings", embFile, "--dataset", dir, "--min-similarity", "0.6", "--engine", "js", "--k", "10", "--out", out]);
    err.mockRestore();
    expect(code).toBe(0);
    const csv = parseCsv(readFileSync(out, "utf8"));
    expect(csv.header).toEqual(["posting_id", "matches"]);
    expect(csv.rows).toHaveLength(f.n);
    const index = new Map(f.ids.map((id, i) => [id, i]));
    const sets = csv.rows.map((r) => r[1]!.split(" ").map((id) => index.get(id)!));
    csv.rows.forEach((r, i) => {
      expect(r[0]).toBe(f.ids[i]);
      expect(sets[i]).toContain(i);
    });
    expect(matchScores(sets, f.labels).f1).toBeGreaterThan(0.9);
    expect(readdirSync(dir).filter((x) => x.includes(".tmp-"))).toEqual([]);
  });

  it("--max-distance d is the same rule as --min-similarity 1 − d; the JSON summary names minSimilarity", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const run = async (flag: string, v: string, name: string) => {
      const out = path.join(dir, name);
      expect(await command.run(["--embeddings", embFile, "--dataset", dir, flag, v, "--engine", "js", "--k", "10", "--json", "--out", out])).toBe(0);
      return { csv: readFileSync(out, "utf8"), summary: JSON.parse(String(log.mock.calls.at(-1)?.[0])) };
    };
    const bySim = await run("--min-similarity", "0.75", "sim.csv");
    const byDist = await run("--max-distance", "0.25", "dist.csv");
    log.mockRestore();
    err.mockRestore();
    expect(byDist.csv).toBe(bySim.csv);
    expect(bySim.summary.params.minSimilarity).toBe(0.75);
    expect(byDist.summary.params.minSimilarity).toBeCloseTo(0.75, 12);
    expect(bySim.summary.params).not.toHaveProperty("threshold");
  });

  it("tunes on labels with tf-idf and phash branches and reports CV F1", async () => {
    const out = path.join(dir, "tuned.csv");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const code = await command.run(["--embeddings", embFile, "--dataset", dir, "--tfidf", "--phash", "--tune", "nelder-mead", "--report", "--folds", "3", "--engine", "js", "--k", "10", "--json", "--out", out]);
    const summary = JSON.parse(String(log.mock.calls.at(-1)?.[0]));
    const calls = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    err.mockRestore();
    expect(code).toBe(0);
    expect(summary.branches).toEqual(["toy", "tfidf"]);
    // --report: one JSON line per combination (toy, tfidf, toy+tfidf, toy+tfidf ∪) before the summary
    const report = calls.slice(0, -1).map((c) => JSON.parse(c));
    expect(report.map((r) => r.combination).sort()).toEqual(["tfidf", "toy", "toy+tfidf", "toy+tfidf ∪"]);
    expect(summary.cvF1).toBeGreaterThan(0.8);
    expect(summary.f1).toBeGreaterThan(0.9);
    expect(existsSync(out)).toBe(true);
  });

  it("rejects bad input with a clear message", async () => {
    await expect(command.run(["--dataset", dir, "--out", path.join(dir, "x.csv")])).rejects.toThrow(/give --runs, --embeddings, --baseline or --tfidf/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--weights", "1,2", "--engine", "js", "--out", path.join(dir, "x.csv")])).rejects.toThrow(/--weights has 2 values for 1 branches/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--tune", "sgd", "--out", path.join(dir, "x.csv")])).rejects.toThrow(/expected grid\|coordinate\|nelder-mead/);
    await expect(command.run(["--bogus"])).rejects.toThrow(/known options/);
    const x = path.join(dir, "x.csv");
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--min-similarity", "0.6", "--max-distance", "0.4", "--out", x])).rejects.toThrow(/--min-similarity 0.6 and --max-distance 0.4 set the same rule .*give one of them/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--max-distance", "near", "--out", x])).rejects.toThrow(/--max-distance must be a number, got near/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--threshold", "0.6", "--out", x])).rejects.toThrow(/--threshold was a cosine similarity: use --min-similarity/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--branch-thresholds=0.8", "--out", x])).rejects.toThrow(/use --branch-min-similarities/);
    await expect(command.run(["--embeddings", embFile, "--dataset", dir, "--tune", "grid", "--min-similarity", "0.6", "--out", x])).rejects.toThrow(/--min-similarity is what --tune grid tunes/);
    await expect(command.run(["--runs", "nope", "--dataset", dir, "--out", path.join(dir, "x.csv")])).rejects.toThrow(/run not found: nope/);
  });
});
