/**
 * The Slurm submission's pure parts: the batch script's text (directives from the options, one
 * `matchlab train` per array task, the USR2 forwarding and the requeue cap), shell quoting, and
 * reading `scontrol show job -o` and the task logs back. The real cluster run is
 * test/loop/slurm.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expandArrayIds, logRestarts, parseScontrolJobs, type SlurmScriptSpec, sbatchDirectives, sbatchScript, shellQuote } from "../../src/train/slurm";
import { REQUEUE_EXIT_CODE } from "../../src/train/signals";

const spec = (over: Partial<SlurmScriptSpec> = {}): SlurmScriptSpec => ({
  name: "cv-quick-s0-x",
  origin: "matchlab cv --slurm",
  root: "/srv/matchlab",
  node: "/usr/bin/node",
  bin: "/srv/matchlab/bin/matchlab.js",
  logs: "/shared/runs/cv-quick-s0-x/slurm",
  runsDir: "/shared/runs",
  tasks: [0, 1, 2].map((f) => ({ index: f, fold: f, run: `cv-quick-s0-x-f${f}`, args: ["--config", "/shared/runs/cv-quick-s0-x/slurm/config.yaml", "--fold", String(f), "--run", `cv-quick-s0-x-f${f}`, "--runs-dir", "/shared/runs", "--json"] })),
  slurm: {},
  ...over,
});

describe("sbatch directives", () => {
  it("always: the array over the tasks, appended per-task logs, requeue, USR2 before the limit", () => {
    expect(sbatchDirectives(spec())).toEqual([
      "#SBATCH --job-name=cv-quick-s0-x",
      "#SBATCH --array=0-2",
      "#SBATCH --output=/shared/runs/cv-quick-s0-x/slurm/task-%a.out",
      "#SBATCH --open-mode=append",
      "#SBATCH --requeue",
      "#SBATCH --signal=B:USR2@120",
    ]);
  });

  it("adds each resource option, the array cap and the extra options in order", () => {
    const d = sbatchDirectives(spec({ slurm: { partition: "gpu", time: "1-00:00:00", cpusPerTask: 8, gpusPerTask: 1, gres: "gpu:a100:1", mem: "32G", arrayLimit: 2, signalGrace: 300, extra: ["--account=proj", "--qos=long"] } }));
    expect(d.slice(1)).toEqual([
      "#SBATCH --array=0-2%2",
      "#SBATCH --output=/shared/runs/cv-quick-s0-x/slurm/task-%a.out",
      "#SBATCH --open-mode=append",
      "#SBATCH --requeue",
      "#SBATCH --signal=B:USR2@300",
      "#SBATCH --partition=gpu",
      "#SBATCH --time=1-00:00:00",
      "#SBATCH --cpus-per-task=8",
      "#SBATCH --gpus-per-task=1",
      "#SBATCH --gres=gpu:a100:1",
      "#SBATCH --mem=32G",
      "#SBATCH --account=proj",
      "#SBATCH --qos=long",
    ]);
  });

  it("refuses bad options, naming them", () => {
    expect(() => sbatchDirectives(spec({ slurm: { cpusPerTask: 0 } }))).toThrow(/--cpus-per-task must be a positive integer, got 0/);
    expect(() => sbatchDirectives(spec({ slurm: { arrayLimit: -1 } }))).toThrow(/--array-limit must be an integer >= 0/);
    expect(() => sbatchDirectives(spec({ slurm: { signalGrace: 0 } }))).toThrow(/--signal-grace/);
    expect(() => sbatchDirectives(spec({ slurm: { extra: ["account=x"] } }))).toThrow(/must start with -/);
    expect(() => sbatchDirectives(spec({ tasks: [] }))).toThrow(/no tasks/);
  });
});

describe("the batch script", () => {
  const script = sbatchScript(spec({ slurm: { maxRequeues: 3 } }));

  it("starts with bash and the directives, before any command (sbatch stops reading #SBATCH at the first command)", () => {
    const lines = script.split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    const firstCommand = lines.findIndex((l, i) => i > 0 && l !== "" && !l.startsWith("#"));
    expect(lines.slice(1, firstCommand).filter((l) => l.startsWith("#SBATCH")).length).toBe(6);
    expect(lines.slice(firstCommand).some((l) => l.startsWith("#SBATCH"))).toBe(false);
  });

  it("runs one matchlab train per array task, resuming once its run exists", () => {
    for (const f of [0, 1, 2]) expect(script).toContain(`  ${f}) RUN=cv-quick-s0-x-f${f}; ARGS=(--config /shared/runs/cv-quick-s0-x/slurm/config.yaml --fold ${f} --run cv-quick-s0-x-f${f} --runs-dir /shared/runs --json) ;;`);
    expect(script).toContain('if [ -f /shared/runs/"$RUN"/summary.json ]; then ARGS+=(--resume); fi');
    expect(script).toContain(`/usr/bin/node /srv/matchlab/bin/matchlab.js train "\${ARGS[@]}" &`);
    expect(script).toContain("cd /srv/matchlab || exit 1");
  });

  it("forwards USR2 to the trainer and requeues its own array task on exit 75, at most maxRequeues times", () => {
    expect(script).toMatch(/trap '.*kill -USR2 "\$PID".*' USR2/);
    expect(script).toContain(`if [ "$RC" -eq ${REQUEUE_EXIT_CODE} ]`);
    expect(script).toContain(`TASK="\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"`);
    expect(script).toContain('scontrol requeue "$TASK"');
    expect(script).toContain("MAX_REQUEUES=3");
    expect(script).toContain('if [ "$RESTART" -lt "$MAX_REQUEUES" ]');
    expect(script).toContain('exit "$RC"'); // any other failure ends the task with the trainer's status
  });

  it("quotes what the shell would split, and refuses run ids that name no folder", () => {
    const s = sbatchScript(spec({ root: "/home/a b/matchlab", tasks: [{ index: 0, fold: 0, run: "r0", args: ["--set", "name=it's"] }] }));
    expect(s).toContain("cd '/home/a b/matchlab' || exit 1");
    expect(s).toContain(`ARGS=(--set 'name=it'\\''s')`);
    expect(() => sbatchScript(spec({ tasks: [{ index: 0, fold: 0, run: "../x", args: [] }] }))).toThrow(/run id/);
    expect(shellQuote("plain-1.yaml")).toBe("plain-1.yaml");
    expect(shellQuote("")).toBe("''");
  });
});

describe("reading the cluster back", () => {
  it("expands array task ids", () => {
    expect(expandArrayIds("3")).toEqual([3]);
    expect(expandArrayIds("0-3%2")).toEqual([0, 1, 2, 3]);
    expect(expandArrayIds("1,4-5")).toEqual([1, 4, 5]);
    expect(expandArrayIds("0-6:3")).toEqual([0, 3, 6]);
  });

  it("parses scontrol show job -o, split tasks and a still-pending range", () => {
    const text = [
      "JobId=12 ArrayJobId=11 ArrayTaskId=1 JobName=cv UserId=root(0) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=2 BatchFlag=1",
      "JobId=11 ArrayJobId=11 ArrayTaskId=2-3%2 JobName=cv UserId=root(0) JobState=PENDING Reason=JobArrayTaskLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1",
      "JobId=13 ArrayJobId=11 ArrayTaskId=0 JobName=cv JobState=PENDING Reason=BeginTime Requeue=1 Restarts=1",
    ].join("\n");
    const m = parseScontrolJobs(text);
    expect([...m.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(m.get(1)).toEqual({ state: "RUNNING", reason: "None", restarts: 2 });
    expect(m.get(3)).toEqual({ state: "PENDING", reason: "JobArrayTaskLimit", restarts: 0 });
    expect(m.get(0)).toEqual({ state: "PENDING", reason: "BeginTime", restarts: 1 });
    expect(parseScontrolJobs("slurm_load_jobs error: Invalid job id specified").size).toBe(0);
  });

  it("reads the highest restart a task log records", () => {
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), "ml-slurm-log-")), "task-0.out");
    writeFileSync(f, ["matchlab-slurm: task 7_0 (job 8) on vm restart 0 run r at 2026-12-03T20:00:00Z", '{"event":"untrained"}', "matchlab-slurm: task 7_0 (job 8) on vm restart 2 run r at 2026-12-03T20:01:00Z", ""].join("\n"));
    expect(logRestarts(f)).toBe(2);
    expect(logRestarts(`${f}.missing`)).toBe(0);
  });
});
