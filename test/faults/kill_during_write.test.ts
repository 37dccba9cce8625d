/**
 * Fault tests: a process SIGKILLed in the middle of a write (after its temporary file is written,
 * before the rename; made deterministic by the test-only MATCHLAB_TEST_PAUSE_WRITE hook of
 * src/fs_atomic.ts) leaves the previous file byte-for-byte intact and no partial file under the
 * real name; the temporary file it leaves is removed by the next run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ATOMIC_TEMP } from "../../src/fs_atomic";
import { embeddingCacheDir, openEmbeddingCache } from "../../src/embeddings/cache";
import { createRunDir } from "../../src/train/registry";
import { loadCheckpoint } from "../../src/train/checkpoint";
import { CACHE_KEY, write } from "./writers";

const CHILD = path.join(__dirname, "writer_child.mjs");

/** Runs `node <argv>` with MATCHLAB_TEST_PAUSE_WRITE=`pattern`, SIGKILLs it when it reports the pause, and returns what it reported (a temp file or a folder). */
function killAtPause(argv: string[], pattern: string, extraEnv: Record<string, string> = {}): Promise<{ paused: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: path.resolve(__dirname, "../.."), env: { ...process.env, ...extraEnv, MATCHLAB_TEST_PAUSE_WRITE: pattern } });
    let err = "";
    let paused = "";
    child.stderr.on("data", (d) => {
      err += d;
      const m = /MATCHLAB_TEST_PAUSED (.+)\n/.exec(err);
      if (m && !paused) {
        paused = m[1]!;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => (paused ? resolve({ paused, signal }) : reject(new Error(`${path.basename(argv[0]!)} ended (code ${code}) without pausing:\n${err}`))));
  });
}

/** writer_child.mjs paused before the rename of a file matching `pattern`, killed there; returns the temp file it reported. */
const killMidWrite = async (mode: string, target: string, v: number, pattern: string) => {
  const { paused, signal } = await killAtPause([CHILD, mode, target, String(v)], pattern);
  return { tmp: paused, signal };
};

const temps = (dir: string) => readdirSync(dir).filter((f) => ATOMIC_TEMP.test(f));

describe("SIGKILL during a write leaves the previous file intact", () => {
  it("a checkpoint", async () => {
    const runs = mkdtempSync(path.join(os.tmpdir(), "ml-fault-ckpt-"));
    const p = createRunDir(runs, "r", "name: r\n", ["epoch"]);
    const file = path.join(p.checkpoints, "best.ckpt");
    await write("checkpoint", file, 1);
    const before = readFileSync(file);
    const { tmp, signal } = await killMidWrite("checkpoint", file, 2, "best\\.ckpt$");
    expect(signal).toBe("SIGKILL");
    expect(existsSync(tmp)).toBe(true); // the new version was written in full, under the temporary name only
    expect(loadCheckpoint(tmp).meta.optimizerT).toBe(2);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(loadCheckpoint(file).meta.optimizerT).toBe(1);
    expect(temps(p.checkpoints)).toEqual([path.basename(tmp)]);
    createRunDir(runs, "r", null, ["epoch"]); // the next run (a resume) cleans up
    expect(temps(p.checkpoints)).toEqual([]);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it("a submission", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ml-fault-sub-"));
    const file = path.join(dir, "submission.csv");
    await write("submission", file, 1);
    const before = readFileSync(file);
    const { tmp } = await killMidWrite("submission", file, 2, "submission\\.csv$");
    expect(readFileSync(tmp, "utf8")).toMatch(/^posting_id,matches\np2-0,p2-0\n/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(temps(dir)).toEqual([path.basename(tmp)]);
    await write("submission", file, 3); // the next write cleans up
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(file, "utf8")).toMatch(/^posting_id,matches\np3-0,p3-0\n/);
  });

  it("an embedding-cache write (its manifest)", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "ml-fault-cache-"));
    await write("cache", root, 1);
    const dir = embeddingCacheDir(CACHE_KEY.encoder, CACHE_KEY.pooling, root);
    const manifest = path.join(dir, "manifest.json");
    const before = readFileSync(manifest);
    const { tmp } = await killMidWrite("cache", root, 2, "manifest\\.json$");
    expect(JSON.parse(readFileSync(tmp, "utf8")).chunks).toHaveLength(2);
    expect(readFileSync(manifest).equals(before)).toBe(true);
    expect(temps(dir)).toEqual([path.basename(tmp)]);
    const cache = await openEmbeddingCache({ ...CACHE_KEY, cacheDir: root }); // the next run: the old rows, nothing half-written
    expect(temps(dir)).toEqual([]);
    expect(cache.stale).toBeNull();
    expect([cache.has("id1"), cache.has("id2")]).toEqual([true, false]);
    expect(Array.from((await cache.match(["id1"])).vectors)).toEqual([1, 1, 1, 1]);
  });
});

describe("SIGKILL during a dataset build (matchlab data) leaves the previous build intact", () => {
  const BIN = path.join(__dirname, "../../bin/matchlab.js");
  const args = (out: string, seed: number) => ["data", "--sample", "--out", out, "--groups", "4", "--size", "16", "--locales", "en", "--sets", "twemoji,noto", "--seed", String(seed), "--concurrency", "2"];

  /** Runs `matchlab data` paused at the build's pause point `point` (swap|aside), SIGKILLs it there; returns the folder it reported. */
  const killBuild = async (out: string, seed: number, point: string) => (await killAtPause([BIN, ...args(out, seed), "--force"], `#${point}$`, { MATCHLAB_QUIET: "1" })).paused;

  const snapshot = (dir: string) => ({ csv: readFileSync(path.join(dir, "train.csv"), "utf8"), manifest: readFileSync(path.join(dir, "manifest.json"), "utf8"), images: readdirSync(path.join(dir, "train_images")).sort() });

  it.each(["swap", "aside"])("killed at %s: the old build stays (or comes back), the next run cleans up", async (point) => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "ml-fault-data-"));
    const out = path.join(parent, "ds");
    const { runCli } = await import("../cli/run_cli");
    const first = await runCli(args(out, 1));
    expect(first.code, first.err).toBe(0);
    const before = snapshot(out);
    const at = await killBuild(out, 2, point); // a rebuild with another seed
    expect(path.basename(at)).toMatch(point === "swap" ? /^\.ds\.partial-\d+-/ : /^\.ds\.old-\d+-/);
    // what a reader sees now: the old build (swap), or no build at all (killed between the two renames)
    if (point === "swap") expect(snapshot(out)).toEqual(before);
    else expect(existsSync(out)).toBe(false);
    const again = await runCli(args(out, 1)); // the next run: restores or keeps the old build, which is up to date
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/up to date/);
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(parent)).toEqual(["ds"]); // no partial or set-aside folder left
  });
});
