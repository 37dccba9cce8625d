/**
 * Scale-out on Slurm: a cv's folds or a study's (arm, fold) cells as one sbatch job array, one
 * `matchlab train` per array task on a shared runs folder, each with a run id fixed before
 * submission so a requeued task finds its run and resumes it. The batch script asks Slurm for
 * USR2 `grace` seconds before the time limit (`--signal=B:USR2@<grace>`), forwards it to the
 * trainer, which checkpoints at the next step boundary and exits 75 (`train/signals.ts`); the
 * script then requeues its own array task (`scontrol requeue`), at most `maxRequeues` times. A
 * task that fails for another reason ends failed. The submission is recorded in
 * `<folder>/slurm.json`; {@link slurmTaskStates} reads the tasks' states back from `squeue` /
 * `scontrol show job` (no accounting database needed), and the logs say the rest.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { readRunSummary, writeJsonAtomic } from "./registry";
import { REQUEUE_EXIT_CODE } from "./signals";

/** The format tag of slurm.json. */
export const SLURM_FORMAT = "matchlab-slurm/1";

/** Where a submission's script, configs and logs go, under its cv or study folder. */
export const SLURM_SUBDIR = "slurm";

/** sbatch resources and behaviour of a submission. */
export interface SlurmOptions {
  /** `--partition`. Defaults to the cluster's default partition. */
  partition?: string;
  /** `--time` (e.g. `02:00:00`, `1-00:00:00`). Defaults to the partition's default. */
  time?: string;
  /** `--cpus-per-task`. Defaults to Slurm's (1). */
  cpusPerTask?: number;
  /** `--gpus-per-task`. Defaults to none. */
  gpusPerTask?: number;
  /** `--gres` (e.g. `gpu:1`, `gpu:a100:1`). Defaults to none. */
  gres?: string;
  /** `--mem` per node (e.g. `8G`). Defaults to the cluster's default. */
  mem?: string;
  /** At most this many array tasks run at once (`--array=0-N%K`). Defaults to no limit (0). */
  arrayLimit?: number;
  /** Seconds before the time limit at which USR2 arrives (`--signal=B:USR2@<grace>`). Defaults to 120. */
  signalGrace?: number;
  /** Requeues per task after a checkpoint on the signal before it is left failed. Defaults to 10. */
  maxRequeues?: number;
  /** Further sbatch options, one per item (e.g. `--account=proj`, `--qos=long`). Defaults to none. */
  extra?: string[];
}

/** One array task: what it trains and where its run goes. */
export interface SlurmTask {
  /** The array index (`$SLURM_ARRAY_TASK_ID`). */
  index: number;
  /** The fold trained (`all`: every row). */
  fold: number | "all";
  /** The study arm, or none for a cv. */
  arm?: string;
  /** The run id (fixed: a requeued task resumes it). */
  run: string;
  /** The `matchlab train` arguments (without `--resume`, which the script adds once the run exists). */
  args: string[];
}

/** What the script generator needs besides the tasks. */
export interface SlurmScriptSpec {
  /** The job name (the cv or study id). */
  name: string;
  /** What wrote it, for the header comment (e.g. `matchlab cv --slurm`). */
  origin: string;
  /** The project root the tasks run in. */
  root: string;
  /** The node binary and the `matchlab` entry point. */
  node: string;
  bin: string;
  /** The folder the task logs go to (`task-<index>.out`). */
  logs: string;
  /** The shared runs folder (the tasks' `--runs-dir`). */
  runsDir: string;
  tasks: readonly SlurmTask[];
  slurm: SlurmOptions;
}

/** Quotes a word for bash (single quotes). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A task's log file. */
export function taskLog(logs: string, index: number): string {
  return path.join(logs, `task-${index}.out`);
}

/** The `#SBATCH` lines of a submission (pure). */
export function sbatchDirectives(spec: Pick<SlurmScriptSpec, "name" | "logs" | "tasks" | "slurm">): string[] {
  const s = spec.slurm;
  const n = spec.tasks.length;
  if (n === 0) throw new Error("slurm: nothing to submit (no tasks)");
  const grace = s.signalGrace ?? 120;
  if (!Number.isInteger(grace) || grace < 1) throw new Error(`--signal-grace must be a positive number of seconds, got ${grace}`);
  const limit = s.arrayLimit ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`--array-limit must be an integer >= 0, got ${limit}`);
  const posInt = (v: number | undefined, flag: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`${flag} must be a positive integer, got ${v}`);
    return v;
  };
  const d = [
    `--job-name=${spec.name}`,
    `--array=0-${n - 1}${limit > 0 ? `%${limit}` : ""}`,
    `--output=${path.join(spec.logs, "task-%a.out")}`,
    "--open-mode=append",
    "--requeue",
    `--signal=B:USR2@${grace}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(posInt(s.cpusPerTask, "--cpus-per-task") ? [`--cpus-per-task=${s.cpusPerTask}`] : []),
    ...(posInt(s.gpusPerTask, "--gpus-per-task") ? [`--gpus-per-task=${s.gpusPerTask}`] : []),
    ...(s.gres ? [`--gres=${s.gres}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.extra ?? []),
  ];
  for (const x of d) if (/[\n\r]/.test(x) || !x.startsWith("-")) throw new Error(`slurm: sbatch option ${JSON.stringify(x)} must start with - and be one line`);
  return d.map((x) => `#SBATCH ${x}`);
}

/**
 * The batch script of a submission (pure): the `#SBATCH` lines, then per array task the
 * `matchlab train` line of its fold; `--resume` once its run exists; the trainer runs in the
 * background so the shell can forward USR2; exit 75 (checkpoint written) → `scontrol requeue` of
 * this array task while `$SLURM_RESTART_COUNT` < maxRequeues.
 */
export function sbatchScript(spec: SlurmScriptSpec): string {
  const maxRequeues = spec.slurm.maxRequeues ?? 10;
  if (!Number.isInteger(maxRequeues) || maxRequeues < 0) throw new Error(`--max-requeues must be an integer >= 0, got ${maxRequeues}`);
  const q = shellQuote;
  const cases = spec.tasks.map((t) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.=-]*$/.test(t.run)) throw new Error(`slurm: run id ${JSON.stringify(t.run)} must use letters, digits and _.=-`);
    return `  ${t.index}) RUN=${q(t.run)}; ARGS=(${t.args.map(q).join(" ")}) ;;`;
  });
  return `#!/bin/bash
${sbatchDirectives(spec).join("\n")}
# Written by \`${spec.origin}\`: one array task per ${spec.tasks.some((t) => t.arm !== undefined) ? "(arm, fold)" : "fold"}, each the ordinary \`matchlab train\` on the
# shared runs folder ${spec.runsDir}. USR2 (sent ${spec.slurm.signalGrace ?? 120}s before the time limit) is forwarded to the
# trainer, which checkpoints at the next step and exits ${REQUEUE_EXIT_CODE}; the task is then requeued and resumes.
set -u
cd ${q(spec.root)} || exit 1
MAX_REQUEUES=${maxRequeues}
case "\${SLURM_ARRAY_TASK_ID:-}" in
${cases.join("\n")}
  *) echo "matchlab-slurm: no task \${SLURM_ARRAY_TASK_ID:-?} in this array" >&2; exit 2 ;;
esac
RESTART="\${SLURM_RESTART_COUNT:-0}"
TASK="\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"
if [ -f ${q(spec.runsDir)}/"$RUN"/summary.json ]; then ARGS+=(--resume); fi
echo "matchlab-slurm: task $TASK (job \${SLURM_JOB_ID}) on $(hostname -s) restart $RESTART run $RUN at $(date -u +%FT%TZ)"
export MATCHLAB_QUIET=1
SIGNALLED=0
PID=""
trap 'SIGNALLED=1; echo "matchlab-slurm: USR2 (time limit near): trainer checkpoints at the next step"; if [ -n "$PID" ]; then kill -USR2 "$PID" 2>/dev/null; fi' USR2
${q(spec.node)} ${q(spec.bin)} train "\${ARGS[@]}" &
PID=$!
while :; do
  wait "$PID"; RC=$?
  # a wait cut short by the trapped signal returns > 128 while the trainer still runs
  if [ "$RC" -gt 128 ] && kill -0 "$PID" 2>/dev/null; then continue; fi
  break
done
if [ "$RC" -eq ${REQUEUE_EXIT_CODE} ] || { [ "$SIGNALLED" = 1 ] && [ "$RC" -eq 140 ]; }; then
  if [ "$RESTART" -lt "$MAX_REQUEUES" ]; then
    echo "matchlab-slurm: checkpoint written; requeueing $TASK (restart $((RESTART + 1)) of at most $MAX_REQUEUES)"
    scontrol requeue "$TASK" && exit 0
    echo "matchlab-slurm: scontrol requeue $TASK failed" >&2; exit 1
  fi
  echo "matchlab-slurm: $TASK was requeued $RESTART times (--max-requeues $MAX_REQUEUES); leaving it failed" >&2
  exit 1
fi
echo "matchlab-slurm: trainer exited $RC"
exit "$RC"
`;
}

/** Why Slurm cannot be used here, or null when `sbatch` is on the PATH. */
export function slurmUnavailable(): string | null {
  try {
    execFileSync("sbatch", ["--version"], { stdio: ["ignore", "pipe", "pipe"] });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === "ENOENT" ? "sbatch is not on the PATH (is this a Slurm login node?)" : `sbatch --version failed: ${err.message.split("\n")[0]}`;
  }
}

/** Submits a batch script file with `sbatch --parsable`; returns the job id. */
export function submitSbatch(scriptFile: string): string {
  let out: string;
  try {
    out = execFileSync("sbatch", ["--parsable", scriptFile], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`sbatch ${scriptFile} failed: ${(err.stderr || err.message).trim()}`);
  }
  const job = out.trim().split(";")[0]!;
  if (!/^\d+$/.test(job)) throw new Error(`sbatch --parsable printed ${JSON.stringify(out.trim())}, not a job id`);
  return job;
}

/** `<folder>/slurm.json`: one submission. */
export interface SlurmSubmission {
  format: typeof SLURM_FORMAT;
  /** What was submitted: a cv's folds or a study's cells. */
  kind: "cv" | "study";
  /** The cv or study id (its folder's name). */
  id: string;
  /** The Slurm job id of the array. */
  job: string;
  /** The shared runs folder the tasks train in. */
  runsDir: string;
  script: string;
  logs: string;
  tasks: (SlurmTask & { log: string })[];
  submitted: string;
}

/** Writes a submission record into its folder. */
export function writeSubmission(dir: string, sub: SlurmSubmission): void {
  writeJsonAtomic(path.join(dir, "slurm.json"), sub);
}

/**
 * Finds a submission by job id, or by cv/study id or folder: `<runsDir>/<id>/slurm.json`, or the
 * folder under `runsDir` whose slurm.json names the job.
 */
export function findSubmission(runsDir: string, jobOrId: string): { dir: string; sub: SlurmSubmission } | null {
  const read = (dir: string) => {
    const f = path.join(dir, "slurm.json");
    if (!existsSync(f)) return null;
    const sub = JSON.parse(readFileSync(f, "utf8")) as SlurmSubmission;
    if (sub.format !== SLURM_FORMAT) throw new Error(`${f}: format is ${JSON.stringify(sub.format)}, expected "${SLURM_FORMAT}"`);
    return { dir, sub };
  };
  const direct = read(path.isAbsolute(jobOrId) ? jobOrId : path.join(runsDir, jobOrId)) ?? (existsSync(jobOrId) ? read(jobOrId) : null);
  if (direct) return direct;
  if (!/^\d+$/.test(jobOrId) || !existsSync(runsDir)) return null;
  for (const e of readdirSync(runsDir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const hit = read(path.join(runsDir, e.name));
    if (hit && hit.sub.job === jobOrId) return hit;
  }
  return null;
}

/** One array task's state as the controller reports it. */
export interface SlurmTaskState {
  /** PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, REQUEUED, … */
  state: string;
  /** The pending reason (BeginTime, Resources, …) or "None". */
  reason: string;
  /** Times requeued. */
  restarts: number;
}

/** Expands an `ArrayTaskId` value (`3`, `0-3`, `0-7%2`, `1,4-5`) into indices. */
export function expandArrayIds(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split("%")[0]!.split(",")) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/**
 * Parses `scontrol show job -o <job>` (one line per array task, or one record for still-pending
 * tasks not yet split off) into array index → state (pure).
 */
export function parseScontrolJobs(text: string): Map<number, SlurmTaskState> {
  const out = new Map<number, SlurmTaskState>();
  for (const line of text.split("\n")) {
    const f = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(line)?.[1];
    const ids = f("ArrayTaskId");
    const state = f("JobState");
    if (ids === undefined || state === undefined) continue;
    for (const i of expandArrayIds(ids)) out.set(i, { state, reason: f("Reason") ?? "None", restarts: Number(f("Restarts") ?? 0) });
  }
  return out;
}

/** The controller's view of a job's array tasks; empty once the job has aged out of it (MinJobAge) or when Slurm does not answer. */
export function slurmTaskStates(job: string): Map<number, SlurmTaskState> {
  try {
    return parseScontrolJobs(execFileSync("scontrol", ["show", "job", "-o", job], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  } catch {
    return new Map();
  }
}

/** The highest restart count a task's log records (the batch script's `restart N` lines), 0 when none. */
export function logRestarts(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  let n = 0;
  for (const m of readFileSync(logFile, "utf8").matchAll(/^matchlab-slurm: task \S+ \(job \S+\) on \S+ restart (\d+) /gm)) n = Math.max(n, Number(m[1]));
  return n;
}

/** Slurm states after which a task runs no more (unless requeued). */
export const SLURM_ENDED_STATES: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"]);

/** One array task beside its run, as `matchlab cv --status` shows it. */
export interface SlurmTaskView {
  task: number;
  fold: number | "all";
  arm?: string;
  /** The controller's state, or `-` once the job has aged out of it. */
  slurm: string;
  /** The pending reason, when pending. */
  reason: string;
  /** Times requeued (the controller's count, or the log's when gone). */
  restarts: number;
  run: string;
  /** The run's summary status (`-` before it started). */
  runStatus: string;
  best: number | null;
  log: string;
  /** The run finished (or stopped early) and Slurm runs it no more. */
  done: boolean;
  /** Slurm runs it no more and its run did not finish. */
  failed: boolean;
}

/** Each task of a submission beside its run (reads the controller, the runs' summaries and the logs). */
export function slurmTaskViews(sub: SlurmSubmission, states: Map<number, SlurmTaskState> = slurmTaskStates(sub.job)): SlurmTaskView[] {
  return sub.tasks.map((t) => {
    const st = states.get(t.index);
    const summary = readRunSummary(sub.runsDir, t.run);
    const finished = summary?.status === "finished" || summary?.status === "stopped";
    const active = st !== undefined && !SLURM_ENDED_STATES.has(st.state);
    return {
      task: t.index,
      fold: t.fold,
      ...(t.arm !== undefined ? { arm: t.arm } : {}),
      slurm: st?.state ?? "-",
      reason: st && st.state === "PENDING" ? st.reason : "",
      restarts: Math.max(st?.restarts ?? 0, logRestarts(t.log)),
      run: t.run,
      runStatus: summary?.status ?? "-",
      best: summary?.best ?? null,
      log: t.log,
      done: finished && !active,
      failed: !finished && !active,
    };
  });
}
