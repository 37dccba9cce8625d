/**
 * `matchlab study --config X`: a grid over any dotted config keys (the config's `grid:`), every
 * arm trained on every fold through the one run driver, any task; writes
 * runs/study-<name>-<time>/{study.yaml, results.csv, summary.csv, <arm>-fold<k>/} and prints the
 * mean ± std table of the task's study metrics. With `--slurm` every (arm, fold) is one task of a
 * Slurm job array (`train/slurm.ts`); `--status <job>` follows it and, once all are done, writes
 * the same results.csv and summary.csv.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { initBackend } from "../backend/init_backend";
import { env } from "../env";
import { writeFileAtomic } from "../fs_atomic";
import { configToYaml, loadConfig, type RunConfig, runConfigYaml } from "../train/config";
import { claimFolder, readMetricsCsv, readRunSummary, runPaths, timeStamp } from "../train/registry";
import { findSubmission, SLURM_FORMAT, SLURM_SUBDIR, type SlurmTask, sbatchScript, slurmTaskViews, slurmUnavailable, submitSbatch, taskLog, writeSubmission } from "../train/slurm";
import { formatMeanStd, runStudy, type StudyResultRow, type StudySummaryRow, studyArms, studyRunId, writeStudyResults, writeStudySummary } from "../train/study";
import { TASK_NAMES, taskDef } from "../train/tasks/index";
import { applyOverrides, type Command, configFlags, f4, type FlagSpec, formatTable, intFlag, type Parsed, parseFlags, required, SLURM_FLAGS, slurmOptions, slurmTaskTable, stringFlag, UsageError } from "./common";

const SUMMARY = "run a grid study (the config's grid: dotted key → values) over folds, any task; mean ± std per arm";
const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "study YAML: a run config with a grid (configs/study.yaml, configs/study_match.yaml, …)" },
  "run-folds": { type: "string", help: "train only the first N folds (default: all data.folds)" },
  out: { type: "string", help: "output folder (default: runs/study-<name>-<time>)" },
  json: { type: "boolean", default: false, help: "end with one JSON line: {dir, task, rows, metrics, arms: [{arm, <grid key>…, folds, <metric>: {mean, std}}]}" },
  ...configFlags(["fold"]),
  ...SLURM_FLAGS,
};

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("study", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]} (options start with --)`);
    if (p.values.status !== undefined) return await studyStatus(p);
    const cfg = applyOverrides(loadConfig(required(p, "config")), p);
    const runFolds = intFlag(p, "run-folds", 0);
    if (runFolds < 0) throw new UsageError(`--run-folds must be >= 0, got ${runFolds}`);
    if (p.values.slurm || p.values["dry-run"]) return submitStudySlurm(p, cfg, runFolds);
    await initBackend({ backend: cfg.backend });
    const t0 = Date.now();
    const out = await runStudy(cfg, {
      runFolds,
      outDir: stringFlag(p, "out") !== undefined ? path.resolve(stringFlag(p, "out")!) : undefined,
      onResult: (r, run) => {
        if (!p.values.json) console.error(`${r.arm} fold ${r.fold}: ${run.metric} ${f4(run.final)} (${r.seconds.toFixed(1)}s)`);
      },
    });
    const where = path.relative(env.root, out.dir) || out.dir;
    console.error(`${cfg.task}: ${out.rows} listings, ${out.summary[0]?.folds ?? 0} folds; ${((Date.now() - t0) / 1000).toFixed(0)}s\n${studyTable(cfg, out.summary, out.metrics)}\nresults: ${where}/results.csv`);
    if (p.values.json) {
      const arms = out.summary.map((s) => ({ arm: s.arm, ...s.values, folds: s.folds, ...s.metrics }));
      console.log(JSON.stringify({ dir: out.dir, task: cfg.task, rows: out.rows, metrics: out.metrics, arms }));
    }
    return 0;
  },
};

/** The mean ± std table of a study's arms. */
function studyTable(cfg: RunConfig, summary: readonly StudySummaryRow[], metrics: readonly string[]): string {
  const keys = Object.keys(cfg.grid);
  const head = [...(keys.length ? keys : ["arm"]), "folds", ...metrics];
  const lines = summary.map((s) => [...(keys.length ? keys.map((k) => String(s.values[k])) : [s.arm]), String(s.folds), ...metrics.map((m) => formatMeanStd(s.metrics[m]!))]);
  return formatTable(head, lines);
}

/** `study --slurm`: one sbatch job array, a task per (arm, fold), each `matchlab train` of the arm's config into the study's folder. */
function submitStudySlurm(p: Parsed, cfg: RunConfig, runFolds: number): number {
  const dry = p.values["dry-run"] === true;
  if (!p.values.slurm) throw new UsageError("--dry-run goes with --slurm (it prints the batch script instead of submitting it)");
  if (!dry) {
    const why = slurmUnavailable();
    if (why) throw new UsageError(`--slurm: no Slurm here: ${why}; run without --slurm to train the study on this machine`);
  }
  const base = `study-${cfg.name}-${timeStamp().replace("T", "-")}`;
  const out = stringFlag(p, "out");
  const dir = out !== undefined ? path.resolve(out) : path.join(path.resolve(env.runsDir), dry ? base : claimFolder(env.runsDir, base));
  if (!dry && out !== undefined && existsSync(path.join(dir, "slurm.json"))) throw new UsageError(`--out ${out}: a Slurm study was already submitted there (choose another --out, or remove that folder)`);
  const logs = path.join(dir, SLURM_SUBDIR);
  const folds = runFolds > 0 ? Math.min(runFolds, cfg.data.folds) : cfg.data.folds;
  const arms = studyArms(cfg);
  const tasks: SlurmTask[] = arms.flatMap((arm, a) =>
    Array.from({ length: folds }, (_, f) => {
      const run = studyRunId(arm.name, f);
      return { index: a * folds + f, fold: f, arm: arm.name, run, args: ["--config", path.join(logs, `arm-${a}.yaml`), "--fold", String(f), "--run", run, "--runs-dir", dir, "--json"] };
    }),
  );
  const slurm = slurmOptions(p);
  const id = path.basename(dir);
  const script = sbatchScript({ name: id, origin: "matchlab study --slurm", root: env.root, node: process.execPath, bin: path.join(env.root, "bin", "matchlab.js"), logs, runsDir: dir, tasks, slurm });
  if (dry) {
    process.stdout.write(script);
    return 0;
  }
  mkdirSync(logs, { recursive: true });
  writeFileAtomic(path.join(dir, "study.yaml"), configToYaml(cfg));
  // the study's config as loadConfig reads it back (for --status): its task's section only, with the grid
  writeFileAtomic(path.join(logs, "study.yaml"), configToYaml(Object.fromEntries(Object.entries(cfg).filter(([k]) => !(TASK_NAMES as readonly string[]).includes(k) || k === cfg.task))));
  for (const [a, arm] of arms.entries()) writeFileAtomic(path.join(logs, `arm-${a}.yaml`), runConfigYaml(arm.config));
  const scriptFile = path.join(logs, "job.sbatch");
  writeFileAtomic(scriptFile, script);
  const job = submitSbatch(scriptFile);
  const withLogs = tasks.map((t) => ({ ...t, log: taskLog(logs, t.index) }));
  writeSubmission(dir, { format: SLURM_FORMAT, kind: "study", id, job, runsDir: dir, script: scriptFile, logs, tasks: withLogs, submitted: new Date().toISOString() });
  if (p.values.json) console.log(JSON.stringify({ job, study: dir, tasks: withLogs.map((t) => ({ task: t.index, arm: t.arm, fold: t.fold, run: t.run, log: t.log })), script: scriptFile }));
  else {
    console.log(`submitted job ${job}: study ${dir}, ${tasks.length} array tasks (${arms.length} arms × ${folds} folds; task a·${folds}+k trains arm a on fold k)${slurm.arrayLimit ? `, at most ${slurm.arrayLimit} at once` : ""}`);
    console.log(`script ${scriptFile}\nlogs   ${path.join(logs, "task-<k>.out")}`);
    console.log(`follow it with: matchlab study --status ${job}   (or --status ${out !== undefined ? dir : id}; add --wait to block until done)`);
  }
  return 0;
}

/** `study --status <job|dir>`: each array task's Slurm state beside its run; results.csv and summary.csv once all are done. */
async function studyStatus(p: Parsed): Promise<number> {
  const ref = stringFlag(p, "status")!;
  const runsDir = path.resolve(env.runsDir);
  const found = findSubmission(runsDir, ref);
  if (!found) throw new UsageError(`--status ${ref}: no Slurm submission with that job id, study id or folder under ${runsDir} (submit one with matchlab study --slurm)`);
  const { dir, sub } = found;
  if (sub.kind !== "study") throw new UsageError(`--status ${ref}: job ${sub.job} is a ${sub.kind} (use matchlab ${sub.kind} --status ${ref})`);
  const pollMs = 1000 * Number(process.env.MATCHLAB_SLURM_POLL_S ?? 5);
  let views = slurmTaskViews(sub);
  while (p.values.wait === true && !views.every((v) => v.done || v.failed)) {
    await new Promise((r) => setTimeout(r, pollMs));
    views = slurmTaskViews(sub);
  }
  const done = views.filter((v) => v.done).length;
  const failed = views.filter((v) => v.failed).length;
  const table = slurmTaskTable(views, env.root);
  if (done < views.length) {
    if (p.values.json) console.log(JSON.stringify({ job: sub.job, study: dir, tasks: views.length, done, failed }));
    else console.log(`${table}\nstudy ${sub.id} (job ${sub.job}): ${done} of ${views.length} tasks done${failed ? `, ${failed} failed (see their logs)` : ""}`);
    return failed > 0 ? 1 : 0;
  }
  const cfg = loadConfig(path.join(sub.logs, "study.yaml"));
  const metrics = taskDef(cfg.task).studyMetrics;
  const values = new Map(studyArms(cfg).map((a) => [a.name, a.values]));
  const results: StudyResultRow[] = sub.tasks.map((t) => {
    const s = readRunSummary(dir, t.run)!;
    const last = readMetricsCsv(runPaths(dir, t.run).metrics).at(-1) ?? {};
    return { arm: t.arm!, fold: t.fold as number, values: values.get(t.arm!) ?? {}, run: t.run, metrics: Object.fromEntries(metrics.filter((m) => last[m] !== undefined).map((m) => [m, last[m]!])), steps: s.steps, seconds: s.seconds };
  });
  writeStudyResults(dir, cfg, results);
  const summary = writeStudySummary(dir, cfg, results);
  if (p.values.json) {
    const arms = summary.map((s) => ({ arm: s.arm, ...s.values, folds: s.folds, ...s.metrics }));
    console.log(JSON.stringify({ job: sub.job, dir, task: cfg.task, metrics, arms }));
  } else console.log(`${table}\n${studyTable(cfg, summary, metrics)}\nstudy ${sub.id}: all ${views.length} tasks done; results: ${path.join(dir, "results.csv")}, ${path.join(dir, "summary.csv")}`);
  return 0;
}
