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

/** A `MATCHLAB_*` environment variable with a value outside its allowed ones; the message is one line naming both. */
export class EnvError extends Error {
  constructor(
    /** The variable's name. */
    readonly variable: string,
    value: string,
    expected: string,
  ) {
    super(`environment variable ${variable}=${JSON.stringify(value)} is not valid (expected ${expected})`);
    this.name = "EnvError";
  }
}

const intIn = (min: number, max = Number.POSITIVE_INFINITY) => (v: string) => /^\s*\d+\s*$/.test(v) && Number(v) >= min && Number(v) <= max;

/** The `MATCHLAB_*` variables that take a restricted value: name → [test, what is expected]. Paths and switches (`MATCHLAB_QUIET`, `MATCHLAB_DEBUG`) take any value. */
export const ENV_VALUES: Readonly<Record<string, readonly [(v: string) => boolean, string]>> = Object.freeze({
  MATCHLAB_BACKEND: [(v: string) => (BACKENDS as readonly string[]).includes(v), BACKENDS.join("|")],
  MATCHLAB_SEED: [intIn(0), "a non-negative integer"],
  MATCHLAB_WASM_SIMD: [(v: string) => ["auto", "plain", "off"].includes(v.toLowerCase()), "auto|plain|off"],
  MATCHLAB_WASM_THREADS: [intIn(1, 8), "an integer in 1..8"],
  MATCHLAB_SLURM_POLL_S: [(v: string) => v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) > 0, "a number of seconds > 0"],
});

/**
 * Checks every restricted `MATCHLAB_*` variable of `vars` (see {@link ENV_VALUES}); throws an
 * {@link EnvError} naming the first bad one and its allowed values. An empty value counts as unset.
 * `matchlab` calls it before any command runs.
 */
export function checkEnv(vars: NodeJS.ProcessEnv = process.env): void {
  for (const [name, [ok, expected]] of Object.entries(ENV_VALUES)) {
    const v = vars[name];
    if (v !== undefined && v !== "" && !ok(v)) throw new EnvError(name, v, expected);
  }
}

function checked(vars: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = vars[name];
  if (v === undefined || v === "") return undefined;
  const [ok, expected] = ENV_VALUES[name]!;
  if (!ok(v)) throw new EnvError(name, v, expected);
  return v;
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
    seed: Number(checked(vars, "MATCHLAB_SEED") ?? 0),
    backend: (checked(vars, "MATCHLAB_BACKEND") ?? "auto") as BackendName,
    progress: !vars.MATCHLAB_QUIET,
  };
}

/**
 * The settings as {@link envFromProcess} builds them, except that a bad `MATCHLAB_SEED` or
 * `MATCHLAB_BACKEND` throws its {@link EnvError} where the field is first read (inside the caller's
 * error handling), not while this module loads; assigning the field replaces the bad value.
 */
export function lazyEnvFromProcess(vars: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Env {
  const out = envFromProcess({ ...vars, MATCHLAB_SEED: undefined, MATCHLAB_BACKEND: undefined }, cwd);
  for (const [key, name] of [
    ["seed", "MATCHLAB_SEED"],
    ["backend", "MATCHLAB_BACKEND"],
  ] as const) {
    let error: EnvError | null = null;
    try {
      const v = checked(vars, name);
      if (v !== undefined) (out as unknown as Record<string, unknown>)[key] = key === "seed" ? Number(v) : v;
    } catch (e) {
      error = e as EnvError;
    }
    if (!error) continue;
    let value: unknown;
    Object.defineProperty(out, key, {
      enumerable: true,
      get() {
        if (error) throw error;
        return value;
      },
      set(v: unknown) {
        error = null;
        value = v;
      },
    });
  }
  return out;
}

/** The process-wide settings object (see {@link lazyEnvFromProcess} for bad variables). */
export const env: Env = lazyEnvFromProcess();
