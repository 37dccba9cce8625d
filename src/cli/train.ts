/**
 * `matchlab train --config configs/<name>.yaml [--fold k] [--resume]`: one training run of any
 * task (the config's `task`: match or classify), with flags and `--set` overriding config keys.
 * On SIGUSR2 it checkpoints at the next step boundary and exits with status 75 (`train/signals.ts`):
 * a Slurm batch script requeues it and `--resume` continues exactly. A diverged run (non-finite loss,
 * gradient or weights; `train/divergence.ts`) ends with one line and exit status 3.
 */
import { env } from "../env";
import { loadConfig, overrideConfig, resolveConfig } from "../train/config";
import { DIVERGED_EXIT_CODE, DivergedError } from "../train/divergence";
import { trainRun, trainRunLine } from "../train/run";
import { CHECKPOINT_SIGNAL, PreemptedError, REQUEUE_EXIT_CODE } from "../train/signals";
import { applyOverrides, type Command, configFlags, f4, type FlagSpec, parseFlags, stringFlag, UsageError } from "./common";

const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "the run config (YAML; its `task` key says match or classify); default: every key's default" },
  task: { type: "string", help: "overrides the config's task (match|classify)" },
  resume: { type: "boolean", help: "continue the run from its newest checkpoint (the newest unfinished run of this config, fold and seed, or --run)" },
  run: { type: "string", help: "run id (folder under runs/); default: a new <name>-f<fold>-s<seed>-<time>" },
  json: { type: "boolean", help: 'end by printing one JSON line {"run","task","metric","untrained","best","final","steps","weights_sha256"}' },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  ...configFlags(),
};

export const command: Command = {
  summary: "train one fold of a config, any task (flags override config keys; --resume continues exactly)",
  async run(argv) {
    const p = parseFlags("train", this.summary, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]} (options start with --)`);
    const file = stringFlag(p, "config");
    let cfg = file !== undefined ? loadConfig(file) : resolveConfig({}, "defaults");
    const task = stringFlag(p, "task");
    if (task !== undefined) cfg = overrideConfig(cfg, "task", task, "--task");
    if (file === undefined) cfg = overrideConfig(cfg, "name", cfg.task, "--task");
    cfg = applyOverrides(cfg, p);
    let r: Awaited<ReturnType<typeof trainRun>>;
    try {
      r = await trainRun(cfg, { resume: p.values.resume === true, runId: stringFlag(p, "run"), runsDir: stringFlag(p, "runs-dir") ?? env.runsDir, checkpointSignal: CHECKPOINT_SIGNAL });
    } catch (e) {
      if (e instanceof DivergedError) {
        console.error(`matchlab train: ${e.message}`);
        return DIVERGED_EXIT_CODE;
      }
      if (!(e instanceof PreemptedError)) throw e;
      console.error(`matchlab train: ${e.message} (exit ${REQUEUE_EXIT_CODE}: requeue me)`);
      return REQUEUE_EXIT_CODE;
    }
    if (p.values.json) console.log(JSON.stringify(trainRunLine(r)));
    else console.log(`run ${r.run} (${r.task}): best ${r.metric} ${f4(r.best)} (untrained ${f4(r.untrained)}, final ${f4(r.final)}), ${r.steps} steps, ${r.seconds.toFixed(1)}s${r.stopReason ? ` (${r.stopReason})` : ""}\nweights sha256 ${r.weights_sha256}\nfiles in ${r.dir}`);
    return 0;
  },
};
