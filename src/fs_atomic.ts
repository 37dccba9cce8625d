/**
 * The one atomic file writer. Every file matchlab writes for keeps (CSVs, JSON, checkpoints,
 * caches, exports) goes through {@link writeFileAtomic}: a temporary sibling
 * `<name>.tmp-<pid>-<counter>` is written and fsynced, renamed over the target, and the folder is
 * fsynced, so a reader sees the old file or the new one, never half of one.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

/** The names of {@link writeFileAtomic}'s temporary files (`<name>.tmp-<pid>-<counter>`); what clean-ups of leftovers match. */
export const ATOMIC_TEMP = /\.tmp-\d+-\d+$/;

/** What {@link writeFileAtomic} writes: text (UTF-8), bytes, or byte chunks written in order. */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array>;

let counter = 0;

const REASONS: Readonly<Record<string, string>> = Object.freeze({
  EACCES: "permission denied (a read-only folder?)",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  ENOENT: "a folder on the way does not exist",
  EEXIST: "a file is in the way where a folder should be",
});

/** A write that failed (permissions, a read-only or full disk, a file where a folder should be); one line naming the path, the operation and why. */
export class FileError extends Error {
  constructor(
    /** The file or folder that could not be written. */
    readonly path: string,
    /** What was being done: "write", "create folder". */
    readonly op: string,
    /** The system error code (EACCES, EROFS, …), or "" when none. */
    readonly code: string,
    detail: string,
  ) {
    super(`cannot ${op} ${path}: ${REASONS[code] ?? detail}${code ? ` (${code})` : ""}`);
    this.name = "FileError";
  }

  /** Wraps a Node file-system error (a FileError passes through). */
  static from(e: unknown, file: string, op: string): FileError {
    if (e instanceof FileError) return e;
    const err = e as NodeJS.ErrnoException;
    return new FileError(file, op, typeof err?.code === "string" ? err.code : "", err instanceof Error ? err.message : String(e));
  }
}

/** Creates a folder (and its parents), throwing {@link FileError} naming it on failure. */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw FileError.from(e, dir, "create folder");
  }
}

/** The temporary sibling {@link writeFileAtomic} writes first: `<file>.tmp-<pid>-<counter>` (matched by {@link ATOMIC_TEMP}). */
export function atomicTempName(file: string): string {
  return `${path.resolve(file)}.tmp-${process.pid}-${++counter}`;
}

/**
 * Test-only hook: with `MATCHLAB_TEST_PAUSE_WRITE=<regex>` set, a write point whose `name` matches
 * prints `MATCHLAB_TEST_PAUSED <detail>` to stderr and blocks for good, so a fault test can SIGKILL
 * the process exactly there (test/faults/). {@link writeFileAtomic} calls it with the target path
 * after its temporary file is written and fsynced, before the rename; the dataset build calls it
 * before and inside its folder swap. Never set the variable outside tests.
 */
export function testPausePoint(name: string, detail: string): void {
  const pattern = process.env.MATCHLAB_TEST_PAUSE_WRITE;
  if (!pattern || !new RegExp(pattern).test(name)) return;
  process.stderr.write(`MATCHLAB_TEST_PAUSED ${detail}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** Errors of platforms (or file systems) that cannot fsync a folder; the folder sync is best effort. */
const DIR_SYNC_UNSUPPORTED = new Set(["EINVAL", "EISDIR", "EPERM", "EACCES", "EBADF", "ENOTSUP", "EOPNOTSUPP"]);

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch (e) {
    if (!DIR_SYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Writes `data` to `file` atomically: a temporary file in the same folder (created if needed),
 * fsync, rename over `file`, fsync of the folder. On any error the temporary file is removed and
 * a {@link FileError} naming `file` is thrown; `file` keeps its old content.
 * @example writeFileAtomic("runs/x/summary.json", JSON.stringify(summary));
 * @example writeFileAtomic("model.ckpt", [header, ...tensorBytes]);
 */
export function writeFileAtomic(file: string, data: AtomicData): void {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  makeDir(dir);
  const tmp = atomicTempName(abs);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "w");
    if (typeof data === "string") writeAll(fd, Buffer.from(data, "utf8"));
    else if (data instanceof Uint8Array) writeAll(fd, data);
    else for (const chunk of data) writeAll(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    testPausePoint(abs, tmp);
    renameSync(tmp, abs);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temporary file could not be removed either; the next run's clean-up (ATOMIC_TEMP) will
    }
    throw typeof (e as NodeJS.ErrnoException)?.code === "string" ? FileError.from(e, abs, "write") : e; // the data's own errors pass unchanged
  }
  try {
    syncDir(dir);
  } catch (e) {
    throw FileError.from(e, dir, "sync folder");
  }
}

/** Whether process `pid` is alive (on this machine): what decides that a writer's leftovers are abandoned. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files that interrupted {@link writeFileAtomic} calls left in `dir` (a writer
 * killed between writing and renaming): files named like {@link ATOMIC_TEMP} whose writer process is
 * gone. Returns the names removed. Writers call it for the folders they own, so the next run cleans up.
 */
export function removeAtomicLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const gone: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /\.tmp-(\d+)-\d+$/.exec(f);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(path.join(dir, f), { force: true });
    gone.push(f);
  }
  return gone;
}
