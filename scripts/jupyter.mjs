// Shared helpers for the scripts that drive Jupyter: where the project is, the project-local
// kernel spec, and how to call the system's Jupyter.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
/** The project-local Jupyter data dir: it holds the "matchlab (TypeScript)" kernel spec. */
export const jupyterPath = path.join(root, ".jupyter");
export const KERNEL = "matchlab";

/** Environment for Jupyter processes: the project-local kernel spec is found through JUPYTER_PATH. */
export function jupyterEnv(extra = {}) {
  const sep = path.delimiter;
  const jp = process.env.JUPYTER_PATH ? `${jupyterPath}${sep}${process.env.JUPYTER_PATH}` : jupyterPath;
  return { ...process.env, JUPYTER_PATH: jp, MATCHLAB_QUIET: process.env.MATCHLAB_QUIET ?? "", ...extra };
}

/** Writes the kernel spec (absolute paths, so it works from any notebook folder). */
export function writeKernelSpec() {
  const dir = path.join(jupyterPath, "kernels", KERNEL);
  mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, path.join(root, "scripts", "kernel.cjs"), "{connection_file}"],
    display_name: "matchlab (TypeScript)",
    language: "typescript",
    metadata: { matchlab_root: root },
  };
  writeFileSync(path.join(dir, "kernel.json"), `${JSON.stringify(spec, null, 2)}\n`);
  return dir;
}

/** The Jupyter command, or null when Jupyter (with nbconvert and nbclient) is missing. */
export function findJupyter() {
  for (const cmd of ["jupyter", "/usr/bin/jupyter"]) {
    const r = spawnSync(cmd, ["nbconvert", "--version"], { encoding: "utf8" });
    if (r.status === 0) return cmd;
  }
  return null;
}

/** Ensures the sample dataset exists, building it when missing. Returns its folder. */
export function ensureSample({ quiet = false } = {}) {
  const dir = path.join(root, "data", "emoji-match-sample");
  if (existsSync(path.join(dir, "train.csv"))) return dir;
  if (!quiet) console.log("building the sample dataset (matchlab data --sample --out data/emoji-match-sample)…");
  const r = spawnSync(process.execPath, [path.join(root, "bin", "matchlab.js"), "data", "--sample", "--out", dir], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("could not build the sample dataset: see the output above");
  return dir;
}

/**
 * The `jupyter notebook` arguments of `npm run lab`: on 127.0.0.1, no browser, at notebooks/, token
 * auth left on; as root (uid 0: containers, cloud notebook machines) `--allow-root` is added, else
 * Jupyter refuses to start. Returns the arguments and the notes to print.
 */
export function labArgs({ uid = typeof process.getuid === "function" ? process.getuid() : -1, extra = [] } = {}) {
  const args = ["notebook", "--ip=127.0.0.1", "--no-browser", `--notebook-dir=${path.join(root, "notebooks")}`];
  const notes = [];
  if (uid === 0 && !extra.includes("--allow-root")) {
    args.push("--allow-root");
    notes.push("running as root: adding --allow-root (still on 127.0.0.1 with token auth)");
  }
  return { args: [...args, ...extra], notes };
}
