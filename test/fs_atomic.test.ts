import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ATOMIC_TEMP, atomicTempName, FileError, writeFileAtomic } from "../src/fs_atomic";
import { claimFolder, createRunDir } from "../src/train/registry";
import { readOnlyFolder } from "./read_only";
import { matchlabCli } from "./cli/spawn_cli";

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), "matchlab-atomic-"));
const bytes = (...v: number[]) => new Uint8Array(v);

/** Byte chunks that list `dir` while the write is in progress (after the first chunk went out). */
function* listingChunks(dir: string, seen: string[][], count = 64, chunkBytes = 64 * 1024): Generator<Uint8Array> {
  for (let c = 0; c < count; c++) {
    if (c === 1 || c === count - 1) seen.push(readdirSync(dir));
    yield new Uint8Array(chunkBytes).fill(c & 255);
  }
}

describe("writeFileAtomic", () => {
  it("round-trips a string (UTF-8), creating missing folders, and leaves only the target", () => {
    const dir = tmpDir();
    const f = path.join(dir, "a", "b", "out.txt");
    writeFileAtomic(f, "héllo, 👟\n");
    expect(readFileSync(f, "utf8")).toBe("héllo, 👟\n");
    writeFileAtomic(f, "second\n");
    expect(readFileSync(f, "utf8")).toBe("second\n");
    expect(readdirSync(path.dirname(f))).toEqual(["out.txt"]);
  });

  it("round-trips bytes, including a view into a larger buffer", () => {
    const dir = tmpDir();
    const f = path.join(dir, "out.bin");
    const big = new Float32Array([1.5, -2, 3.25, 4]);
    writeFileAtomic(f, new Uint8Array(big.buffer, 4, 8));
    const back = readFileSync(f);
    expect(new Float32Array(back.buffer.slice(back.byteOffset, back.byteOffset + back.length))).toEqual(new Float32Array([-2, 3.25]));
    writeFileAtomic(f, bytes());
    expect(readFileSync(f).length).toBe(0);
    expect(readdirSync(dir)).toEqual(["out.bin"]);
  });

  it("round-trips a list of chunks (array or generator), in order", () => {
    const dir = tmpDir();
    const f = path.join(dir, "ck.bin");
    writeFileAtomic(f, [bytes(1, 2), bytes(), bytes(3), bytes(4, 5, 6)]);
    expect([...readFileSync(f)]).toEqual([1, 2, 3, 4, 5, 6]);
    writeFileAtomic(
      f,
      (function* () {
        yield bytes(9);
        yield bytes(8, 7);
      })(),
    );
    expect([...readFileSync(f)]).toEqual([9, 8, 7]);
    expect(readdirSync(dir)).toEqual(["ck.bin"]);
  });

  it("leaves the target unchanged and no temp file when a chunk throws mid-write", () => {
    const dir = tmpDir();
    const f = path.join(dir, "keep.bin");
    writeFileAtomic(f, bytes(1, 2, 3));
    const boom = new Error("chunk unreadable");
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array(256 * 1024).fill(7);
      throw boom;
    }
    expect(() => writeFileAtomic(f, failing())).toThrow(boom);
    // an array whose second element throws when read
    const arr: Uint8Array[] = [bytes(4)];
    Object.defineProperty(arr, 1, {
      get() {
        throw new Error("detached");
      },
    });
    expect(() => writeFileAtomic(f, arr)).toThrow(/detached/);
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(["keep.bin"]);
  });

  it("fails cleanly when the parent is a file or the target is a folder", () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, "plain"), "x");
    expect(() => writeFileAtomic(path.join(dir, "plain", "out.txt"), "y")).toThrow(FileError);
    expect(() => writeFileAtomic(path.join(dir, "plain", "out.txt"), "y")).toThrow(`cannot create folder ${path.join(dir, "plain")}: a file is in the way where a folder should be (EEXIST)`);
    mkdirSync(path.join(dir, "sub", "inner"), { recursive: true });
    expect(() => writeFileAtomic(path.join(dir, "sub"), "z")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["plain", "sub"]);
    expect(readdirSync(path.join(dir, "sub"))).toEqual(["inner"]);
    expect(readFileSync(path.join(dir, "plain"), "utf8")).toBe("x");
  });

  it("names its temp files <name>.tmp-<pid>-<counter>, which ATOMIC_TEMP matches", () => {
    const dir = tmpDir();
    const f = path.join(dir, "big.bin");
    const seen: string[][] = [];
    writeFileAtomic(f, listingChunks(dir, seen));
    writeFileAtomic(f, listingChunks(dir, seen));
    expect(readFileSync(f).length).toBe(64 * 64 * 1024);
    expect(readdirSync(dir)).toEqual(["big.bin"]);
    const temps = [...new Set(seen.flat().filter((x) => x !== "big.bin"))];
    expect(temps).toHaveLength(2); // one per write, the same name throughout a write
    for (const t of temps) {
      expect(t).toMatch(ATOMIC_TEMP);
      expect(t.startsWith(`big.bin.tmp-${process.pid}-`)).toBe(true);
    }
    expect(ATOMIC_TEMP.test("big.bin")).toBe(false);
    expect(ATOMIC_TEMP.test("big.bin.tmp-12-3.bak")).toBe(false);
  });

  it("leftover temp names are what the run registry cleans up", () => {
    const runs = tmpDir();
    const seen: string[][] = [];
    const runDir = path.join(runs, "r1");
    writeFileAtomic(path.join(runDir, "summary.json"), listingChunks(runDir, seen, 3, 16));
    const temp = seen.flat().find((x) => x !== "summary.json")!;
    // a killed writer leaves its temp file behind, in the run folder and in checkpoints/
    writeFileSync(path.join(runDir, temp), "half");
    mkdirSync(path.join(runDir, "checkpoints"), { recursive: true });
    writeFileSync(path.join(runDir, "checkpoints", `step-3.ckpt.tmp-${process.pid}-77`), "half");
    createRunDir(runs, "r1", "name: x\n", ["epoch"]);
    expect(existsSync(path.join(runDir, temp))).toBe(false);
    expect(readdirSync(path.join(runDir, "checkpoints"))).toEqual([]);
    expect(readdirSync(runDir).filter((x) => ATOMIC_TEMP.test(x))).toEqual([]);
  });

  it("atomicTempName is what ATOMIC_TEMP (the registry's clean-up) matches", () => {
    for (let i = 0; i < 3; i++) expect(path.basename(atomicTempName("runs/x/metrics.csv"))).toMatch(ATOMIC_TEMP);
    expect(path.dirname(atomicTempName("runs/x/metrics.csv"))).toBe(path.resolve("runs/x"));
  });
});

describe("failing writes give a FileError naming the path", () => {
  it("a folder in the way of a file: FileError with the path, the operation and the code", () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, "out.csv"));
    let err: unknown;
    try {
      writeFileAtomic(path.join(dir, "out.csv"), "a,b\n");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).message).toBe(`cannot write ${path.join(dir, "out.csv")}: it is a folder (EISDIR)`);
    expect(readdirSync(dir)).toEqual(["out.csv"]); // no temp file left
  });

  it("a runs folder that cannot be created: claimFolder names it", () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, "runs"), "a file");
    expect(() => claimFolder(path.join(dir, "runs"), "r1")).toThrow(`cannot create folder ${path.join(dir, "runs")}: a file is in the way where a folder should be (EEXIST)`);
  });

  it("a read-only folder: FileError naming the file and why", (ctx) => {
    const ro = readOnlyFolder(path.join(tmpDir(), "ro"));
    if (!ro) return ctx.skip(); // root without the right to mount a read-only tmpfs
    try {
      const why = ro.code === "EROFS" ? "read-only file system (EROFS)" : "permission denied (a read-only folder?) (EACCES)";
      expect(() => writeFileAtomic(path.join(ro.dir, "summary.json"), "{}")).toThrow(`cannot write ${path.join(ro.dir, "summary.json")}: ${why}`);
    } finally {
      ro.release();
    }
  });

  it("matchlab train with an unwritable runs folder: one line naming it, no stack", async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, "runs"), "a file");
    const r = await matchlabCli(["train", "--runs-dir", path.join(dir, "runs", "sub"), "--max_iters", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("matchlab train:"))).toEqual([`matchlab train: cannot create folder ${path.join(dir, "runs", "sub")}: a part of the path is a file, not a folder (ENOTDIR)`]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
