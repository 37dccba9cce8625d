/**
 * The one settings object. Every path and default that more than one module needs lives here;
 * no module keeps global state of its own. Environment variables seed it; code may assign to it.
 *
 * Note: src/ never uses `import.meta` or top-level await, because tslab compiles local imports
 * to CommonJS. Paths are resolved from the project root, found by walking up from the cwd.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Which compute backend to use; `auto` tries tensorflow → wasm → cpu. */
export type BackendName = "auto" | "tensorflow" | "wasm" | "cpu";

/** The matchlab settings. */
export interface Env {
  /** The project root (the folder holding matchlab's package.json). Defaults to the nearest such folder above the cwd, else the cwd. */
  root: string;
  /** Where datasets live. Defaults to `$MATCHLAB_DATA_DIR` or `<root>/data`. */
  dataDir: string;
  /** The dataset folder (train.csv + images) that notebooks and the CLI open by default. Defaults to `$MATCHLAB_DATASET` or `<dataDir>/emoji-match`. */
  dataset: string;
  /** Where embedding caches and derived files go. Defaults to `$MATCHLAB_CACHE_DIR` or `<root>/cache`. */
  cacheDir: string;
  /** Where training runs are registered. Defaults to `$MATCHLAB_RUNS_DIR` or `<root>/runs`. */
  runsDir: string;
  /** Where executed notebooks and HTML exports go. Defaults to `<root>/reports`. */
  reportsDir: string;
  /** The default seed for everything random. Defaults to `$MATCHLAB_SEED` or 0. */
  seed: number;
  /** The compute backend. Defaults to `$MATCHLAB_BACKEND` or `auto`. */
  backend: BackendName;
  /** Show progress bars. Defaults to true unless `$MATCHLAB_QUIET` is set. */
  progress: boolean;
}

/** Finds the matchlab project root at or above `start`. */
export function findRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "matchlab") return dir;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start);
    dir = up;
  }
}

/** The backend names. */
export const BACKENDS: readonly BackendName[] = Object.freeze(["auto", "tensorflow", "wasm", "cpu"]);

/** Parses a backend name, throwing an error that lists the valid ones. */
export function parseBackendName(name: string, where = "backend"): BackendName {
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`unknown ${where}: ${name} (expected ${BACKENDS.join("|")})`);
}

function parseSeed(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`MATCHLAB_SEED must be a non-negative integer, got ${value}`);
  return n;
}

/** Builds the settings from environment variables (see each field's default). */
export function envFromProcess(vars: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Env {
  const root = findRoot(cwd);
  return {
    root,
    dataDir: path.resolve(vars.MATCHLAB_DATA_DIR ?? path.join(root, "data")),
    dataset: path.resolve(vars.MATCHLAB_DATASET ?? path.join(vars.MATCHLAB_DATA_DIR ?? path.join(root, "data"), "emoji-match")),
    cacheDir: path.resolve(vars.MATCHLAB_CACHE_DIR ?? path.join(root, "cache")),
    runsDir: path.resolve(vars.MATCHLAB_RUNS_DIR ?? path.join(root, "runs")),
    reportsDir: path.join(root, "reports"),
    seed: parseSeed(vars.MATCHLAB_SEED),
    backend: parseBackendName(vars.MATCHLAB_BACKEND ?? "auto", "MATCHLAB_BACKEND"),
    progress: !vars.MATCHLAB_QUIET,
  };
}

/** The process-wide settings object. */
export const env: Env = envFromProcess();
