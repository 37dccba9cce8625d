// A folder nobody may write to, for the tests of failing writes: as a normal user a folder with mode
// 0500; as root (who writes through permissions) a read-only tmpfs mounted on it.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";

/** A read-only folder and the error code a write into it gives. */
export interface ReadOnlyFolder {
  dir: string;
  /** EACCES (permissions) or EROFS (a read-only mount). */
  code: "EACCES" | "EROFS";
  /** Unmounts (root) or does nothing. */
  release: () => void;
}

/** Makes `dir` read-only; null when this machine cannot (root without the right to mount). */
export function readOnlyFolder(dir: string): ReadOnlyFolder | null {
  if (typeof process.getuid !== "function") return null;
  if (process.getuid() !== 0) {
    mkdirSync(dir, { recursive: true, mode: 0o500 });
    return { dir, code: "EACCES", release: () => {} };
  }
  mkdirSync(dir, { recursive: true });
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir], { encoding: "utf8" });
  if (m.status !== 0) return null;
  return { dir, code: "EROFS", release: () => void spawnSync("umount", [dir]) };
}
