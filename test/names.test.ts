/**
 * Names that become paths (run ids, cv/study ids, config names, cache chunk names) are checked by
 * src/names.ts before any path is built: through the library, the CLI and a crafted cache manifest.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openEmbeddingCache } from "../src/embeddings/cache";
import { checkName, NameError } from "../src/names";
import { claimFolder, runPaths } from "../src/train/registry";
import { matchlabCli } from "./cli/spawn_cli";

describe("checkName", () => {
  it("accepts plain names", () => {
    for (const ok of ["quick-f0-s0-20260101T000000", "cv-quick-s1", "a", "fold=2", "x.y_z+1", "9lives"]) expect(checkName("run id", ok)).toBe(ok);
  });

  const BAD: [string, string][] = [
    ["", "is empty"],
    ["../x", "has a path separator"],
    ["a/b", "has a path separator"],
    ["a\\b", "has a path separator"],
    ["..", 'has ".."'],
    ["a..b", 'has ".."'],
    [".hidden", "starts with a dot"],
    ["-flag", "has characters outside the allowed ones"],
    ["a b", "has characters outside the allowed ones"],
    ["x\0y", "has characters outside the allowed ones"],
    ["é", "has characters outside the allowed ones"],
    ["a".repeat(201), "is longer than 200 characters"],
  ];
  it.each(BAD)("rejects %j: %s", (value, why) => {
    let err: unknown;
    try {
      checkName("run id", value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NameError);
    expect((err as Error).message).toContain(`run id ${JSON.stringify(value)} ${why} (a name: 1–200 letters, digits and _.=+-`);
    expect((err as Error).message).not.toContain("\n");
  });

  it("guards the registry's paths", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ml-names-"));
    expect(() => runPaths(dir, "../escape")).toThrow(/run id "..\/escape" has a path separator/);
    expect(() => claimFolder(dir, "..")).toThrow(NameError);
    expect(runPaths(dir, "ok-1").dir).toBe(path.join(dir, "ok-1"));
  });

  it("a cache manifest naming a chunk outside its folder is refused before any file is read or removed", async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), "ml-names-cache-"));
    const dir = path.join(cacheDir, "embeddings", "tiny", "mean");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ chunks: [{ file: "../../../victim.txt", rows: 1, ids: ["a"] }] }));
    await expect(openEmbeddingCache({ encoder: "tiny", pooling: "mean", weightsHash: "h", preprocessing: {}, dim: 2, cacheDir })).rejects.toThrow(/manifest\.json: chunk file "..\/..\/..\/victim.txt" has a path separator/);
  });
});

describe("names through the CLI", () => {
  const CASES: [string[], RegExp][] = [
    [["train", "--run", "../../etc", "--max_iters", "1"], /^matchlab train: run id "..\/..\/etc" has a path separator/],
    [["train", "--set", "name=../up", "--max_iters", "1"], /^matchlab train: config name "..\/up" has a path separator/],
    [["cv", "--config", "configs/quick.yaml", "--id", ".hidden"], /^matchlab cv: --id ".hidden" starts with a dot/],
  ];
  it.each(CASES)("matchlab %j: one line naming the name and what is allowed", async (argv, line) => {
    const r = await matchlabCli(argv, { MATCHLAB_RUNS_DIR: mkdtempSync(path.join(os.tmpdir(), "ml-names-runs-")) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
