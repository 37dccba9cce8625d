/**
 * What every `matchlab` command shares: the command type, strict flag parsing with errors that name
 * the flag, config overrides from flags and `--set`, and table formatting. Commands import this and
 * the library; they never import each other.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { parseAssignments } from "../config";
import { distanceThreshold, similarityThreshold, type Threshold } from "../retrieval/threshold";
import { overrideConfig, type RunConfig } from "../train/config";
import type { SlurmOptions, SlurmTaskView } from "../train/slurm";

/** Thrown for a bad command line (unknown flag, missing or malformed flag value): the message names the flag and what it takes. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A `matchlab` command. */
export interface Command {
  /** One line for `matchlab --help`. */
  summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A flag's declaration: its type, optional short alias and default, and one line of help. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
  help: string;
  /** Repeatable: every occurrence is kept, in order (read with {@link stringsFlag}). Defaults to false (the last one wins). */
  multiple?: boolean;
}

/** Parsed flags plus positionals. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Formats `--help` text for a command. */
export function helpText(name: string, summary: string, flags: Record<string, FlagSpec>): string {
  const lines = Object.entries(flags).map(([k, f]) => {
    const arg = f.type === "string" ? ` <${k}>` : "";
    const def = f.default !== undefined ? ` (default: ${String(f.default)})` : "";
    return `  --${k}${arg}  ${f.help}${def}`;
  });
  return `usage: matchlab ${name} [options]\n\n${summary}\n\noptions:\n${lines.join("\n")}\n  --help  show this help`;
}

/**
 * Parses argv against `flags`. Unknown flags throw an error that lists the known ones.
 * Returns null when --help was asked for (after printing the help).
 */
export function parseFlags(
  name: string,
  summary: string,
  flags: Record<string, FlagSpec>,
  argv: string[],
): Parsed | null {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText(name, summary, flags));
    return null;
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean; multiple?: boolean }> = {};
  for (const [k, f] of Object.entries(flags)) {
    options[k] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as Parsed["values"], positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${msg}\nknown options: ${Object.keys(flags).map((k) => `--${k}`).join(", ")}`);
  }
}

/** Reads a required string flag, or throws naming it. */
export function required(p: Parsed, key: string): string {
  const v = p.values[key];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${key} is required`);
  return v;
}

/** Reads an integer flag, throwing when it is not one. */
export function intFlag(p: Parsed, key: string, fallback: number): number {
  const v = p.values[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isInteger(n)) throw new UsageError(`--${key} must be an integer, got ${String(v) || "\"\""}`);
  return n;
}

/** Reads an optional string flag. */
export function stringFlag(p: Parsed, key: string): string | undefined {
  const v = p.values[key];
  return typeof v === "string" ? v : undefined;
}

/** Reads a repeatable string flag ({@link FlagSpec.multiple}): every occurrence, in order. */
export function stringsFlag(p: Parsed, key: string): string[] {
  const v = p.values[key];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** CLI flags that override run-config keys (flag name → dotted key), shared by train and cv. */
export const CONFIG_FLAG_KEYS: Readonly<Record<string, string>> = Object.freeze({
  fold: "data.fold",
  folds: "data.folds",
  limit: "data.limit",
  seed: "seed",
  backend: "backend",
  dataset: "data.dataset",
  epochs: "optim.epochs",
  batch_size: "optim.batch_size",
  lr: "optim.lr",
  max_iters: "train.max_iters",
  warmup_steps: "train.warmup_steps",
  max_grad_norm: "train.max_grad_norm",
  gradient_accumulation_steps: "train.gradient_accumulation_steps",
  ckpt_period: "train.ckpt_period",
  log_period: "train.log_period",
  evaluate_during_training: "train.evaluate_during_training",
  oof_checkpoint: "eval.oof_checkpoint",
  label: "classify.label",
  tags: "data.tags",
});

/** Override flags that are bare switches (as in the VQA training commands). */
const SWITCHES = new Set(["evaluate_during_training", "tags"]);

/** Flag specs for {@link CONFIG_FLAG_KEYS} (minus `omit`) and `--set`. */
export function configFlags(omit: readonly string[] = []): Record<string, FlagSpec> {
  return {
    set: { type: "string", multiple: true, help: "override config keys: key=value[,key=value…] (dotted keys, e.g. optim.lr=3e-4; YAML values, so lists and maps too: optim.param_groups=[{match: ^block_, lr: 1e-4}]); repeatable, applied in order" },
    ...Object.fromEntries(
      Object.entries(CONFIG_FLAG_KEYS)
        .filter(([k]) => !omit.includes(k))
        .map(([k, key]) => [k, { type: SWITCHES.has(k) ? "boolean" : "string", help: `overrides ${key}` } satisfies FlagSpec]),
    ),
  };
}

/** Applies the config-override flags and `--set` to a config (validated like the file). */
export function applyOverrides(cfg: RunConfig, p: Parsed): RunConfig {
  let c = cfg;
  for (const [flag, key] of Object.entries(CONFIG_FLAG_KEYS)) {
    const v = p.values[flag];
    if (typeof v === "string") c = overrideConfig(c, key, v, `--${flag}`);
    else if (v === true) c = overrideConfig(c, key, "true", `--${flag}`);
  }
  for (const set of stringsFlag(p, "set")) for (const [k, v] of parseAssignments(set)) c = overrideConfig(c, k, v, "--set");
  return c;
}

/** The flags of `p` among `keys`, back as argv (to pass on to a child command). */
export function passFlags(p: Parsed, keys: readonly string[]): string[] {
  return keys.flatMap((k) => {
    const v = p.values[k];
    return Array.isArray(v) ? v.flatMap((x) => [`--${k}`, x]) : typeof v === "string" ? [`--${k}`, v] : v === true ? [`--${k}`] : [];
  });
}

/** Formats rows as an aligned text table with a rule under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd();
  return [line(header), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

/** A number with 4 decimals, or "-" for none. */
export const f4 = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(4));

/** The combined threshold from --min-similarity or --max-distance (one of them, or neither: `minSimilarity`). */
export function thresholdFlags(p: Parsed, minSimilarity: number): Threshold {
  const sim = p.values["min-similarity"];
  const dist = p.values["max-distance"];
  if (sim !== undefined && dist !== undefined) {
    throw new UsageError(`--min-similarity ${String(sim)} and --max-distance ${String(dist)} set the same rule (cosine distance = 1 − similarity): give one of them`);
  }
  const num = (flag: string, v: unknown) => {
    const x = Number(v);
    if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(x)) throw new UsageError(`--${flag} must be a number, got ${String(v)}`);
    return x;
  };
  if (dist !== undefined) return distanceThreshold(num("max-distance", dist));
  return similarityThreshold(sim === undefined ? minSimilarity : num("min-similarity", sim));
}

/** The Slurm flags `matchlab cv` and `matchlab study` share (submission, resources, status). */
export const SLURM_FLAGS: Readonly<Record<string, FlagSpec>> = Object.freeze({
  slurm: { type: "boolean", help: "submit to Slurm as one job array (one task per fold or grid cell) instead of training here" },
  "dry-run": { type: "boolean", help: "with --slurm: print the batch script and submit nothing" },
  status: { type: "string", help: "show a Slurm submission's tasks (by job id or cv/study id) beside their runs; writes the summary once all are done" },
  wait: { type: "boolean", help: "with --status: poll until every task is done or failed" },
  partition: { type: "string", help: "sbatch --partition (default: the cluster's default)" },
  time: { type: "string", help: "sbatch --time per task, e.g. 04:00:00 (default: the partition's)" },
  "cpus-per-task": { type: "string", help: "sbatch --cpus-per-task" },
  "gpus-per-task": { type: "string", help: "sbatch --gpus-per-task" },
  gres: { type: "string", help: "sbatch --gres, e.g. gpu:1" },
  mem: { type: "string", help: "sbatch --mem, e.g. 8G" },
  "array-limit": { type: "string", help: "at most this many tasks at once (--array=0-N%K; default: no limit)" },
  "signal-grace": { type: "string", help: "seconds before the time limit at which tasks get USR2 to checkpoint and requeue", default: "120" },
  "max-requeues": { type: "string", help: "requeues per task after such a checkpoint before it is left failed", default: "10" },
  "sbatch-args": { type: "string", help: 'further sbatch options, space-separated, written with = (--sbatch-args="--account=proj --qos=long")' },
});

/** The Slurm options from {@link SLURM_FLAGS}. */
export function slurmOptions(p: Parsed): SlurmOptions {
  const opt = (k: string) => (p.values[k] === undefined ? undefined : intFlag(p, k, 0));
  return {
    partition: stringFlag(p, "partition"),
    time: stringFlag(p, "time"),
    cpusPerTask: opt("cpus-per-task"),
    gpusPerTask: opt("gpus-per-task"),
    gres: stringFlag(p, "gres"),
    mem: stringFlag(p, "mem"),
    arrayLimit: opt("array-limit"),
    signalGrace: intFlag(p, "signal-grace", 120),
    maxRequeues: intFlag(p, "max-requeues", 10),
    extra: (stringFlag(p, "sbatch-args") ?? "").split(/\s+/).filter(Boolean),
  };
}

/** The Slurm task table `cv --status` and `study --status` print. */
export function slurmTaskTable(views: readonly SlurmTaskView[], root: string): string {
  const rows = views.map((v) => [String(v.task), v.arm ?? "", String(v.fold), v.slurm + (v.reason ? ` (${v.reason})` : ""), String(v.restarts), v.run, v.runStatus, f4(v.best), path.relative(root, v.log).startsWith("..") ? v.log : path.relative(root, v.log)]);
  const withArm = views.some((v) => v.arm !== undefined);
  const header = ["task", "arm", "fold", "slurm", "restarts", "run", "run_status", "best", "log"];
  return formatTable(withArm ? header : header.filter((h) => h !== "arm"), withArm ? rows : rows.map((r) => r.filter((_, i) => i !== 1)));
}
