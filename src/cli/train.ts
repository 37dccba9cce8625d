/**
 * `matchlab train --config configs/<name>.yaml [--fold k] [--resume]`: one training run.
 * `matchlab train --task classify --label subgroup [--config configs/classify.yaml] [--tags]`: one
 * classification run (a classifier config, see src/imbalance/config.ts) in the same run registry.
 */
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { initBackend } from "../backend/init_backend";
import { env } from "../env";
import { trainClassifyRun } from "../imbalance/classify_run";
import { type ClassifyConfig, loadStudyConfig, resolveClassifyConfig, setClassifyConfigKey } from "../imbalance/config";
import { loadConfig, overrideConfig } from "../train/config";
import { trainRun } from "../train/run";
import { type FlagSpec, type Parsed, parseFlags, required } from "./args";
import type { Command } from "./main";

/** The tasks `matchlab train` runs. */
export const TRAIN_TASKS: readonly string[] = Object.freeze(["match", "classify"]);

/** CLI flags that override classification config keys (flag name → dotted key) with --task classify. */
export const CLASSIFY_FLAG_KEYS: Readonly<Record<string, string>> = Object.freeze({
  label: "data.label",
  tags: "data.tags",
  epochs: "optim.epochs",
  batch_size: "optim.batch_size",
  lr: "optim.lr",
  fold: "data.fold",
  seed: "seed",
  dataset: "data.dataset",
});

/** CLI flags that override config keys (flag name → dotted key). */
export const TRAIN_FLAG_KEYS: Readonly<Record<string, string>> = Object.freeze({
  max_grad_norm: "train.max_grad_norm",
  gradient_accumulation_steps: "train.gradient_accumulation_steps",
  warmup_steps: "train.warmup_steps",
  ckpt_period: "train.ckpt_period",
  max_iters: "train.max_iters",
  log_period: "train.log_period",
  evaluate_during_training: "train.evaluate_during_training",
  epochs: "optim.epochs",
  batch_size: "optim.batch_size",
  lr: "optim.lr",
  fold: "data.fold",
  seed: "seed",
  backend: "backend",
  dataset: "data.dataset",
});

/** Override flags that are bare switches (as in the VQA training commands). */
const BOOLEAN_FLAGS = new Set(["evaluate_during_training"]);

const FLAGS: Record<string, FlagSpec> = {
  task: { type: "string", help: "match|classify (default: the config's `task` key, else match)" },
  config: { type: "string", help: "the run config (YAML); optional with --task classify (defaults of src/imbalance/config.ts)" },
  label: { type: "string", help: "--task classify: the column whose values are the classes (overrides data.label, e.g. subgroup)" },
  tags: { type: "boolean", help: "--task classify: append the listing's tags to the title (overrides data.tags)" },
  resume: { type: "boolean", help: "continue the run from its newest checkpoint (the newest unfinished run of this config, fold and seed, or --run)" },
  run: { type: "string", help: "run id (folder under runs/); default: a new <name>-f<fold>-s<seed>-<time>" },
  json: { type: "boolean", help: 'end by printing one JSON line {"run","best_val_f1","untrained_val_f1","steps","weights_sha256"} (classify: {"run","task","best_val_accuracy","best_val_macro_f1",…})' },
  set: { type: "string", help: "override other config keys: key=value[,key=value…] (dotted keys, e.g. optim.lr=3e-4)" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  ...Object.fromEntries(
    Object.entries(TRAIN_FLAG_KEYS).map(([k, key]) => [k, { type: BOOLEAN_FLAGS.has(k) ? "boolean" : "string", help: `overrides ${key}` } satisfies FlagSpec]),
  ),
};

/** The task from --task, else the config file's `task` key, else match; an unknown one throws listing the valid ones. */
function taskOf(p: Parsed): string {
  let task = typeof p.values.task === "string" ? p.values.task : undefined;
  if (task === undefined && typeof p.values.config === "string") {
    let raw: unknown;
    try {
      raw = yaml.load(readFileSync(p.values.config, "utf8"));
    } catch {
      raw = undefined; // loadConfig reports read and parse errors with the file name
    }
    const t = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>).task : undefined;
    task = typeof t === "string" ? t : "match";
  }
  task ??= "match";
  if (!TRAIN_TASKS.includes(task)) throw new Error(`unknown task: ${task} (expected ${TRAIN_TASKS.join("|")})`);
  return task;
}

async function runClassify(p: Parsed): Promise<number> {
  for (const f of Object.keys(TRAIN_FLAG_KEYS)) {
    if (p.values[f] !== undefined && !(f in CLASSIFY_FLAG_KEYS) && f !== "backend") throw new Error(`--${f} applies to --task match only (with --task classify use --set <key>=<value> on the classifier config; flags: ${Object.keys(CLASSIFY_FLAG_KEYS).map((k) => `--${k}`).join(", ")})`);
  }
  if (p.values.resume) throw new Error("--resume applies to --task match only (classification runs are short and keep no checkpoints; start a new run)");
  let cfg: ClassifyConfig = { ...resolveClassifyConfig({}), name: "classify" };
  if (typeof p.values.config === "string") {
    const study = loadStudyConfig(p.values.config);
    if (study.grid.length > 0) throw new Error(`${p.values.config} has a grid; run it with matchlab study (matchlab train --task classify trains one config)`);
    cfg = study.base;
  }
  for (const [flag, key] of Object.entries(CLASSIFY_FLAG_KEYS)) {
    const v = p.values[flag];
    if (typeof v === "string") cfg = setClassifyConfigKey(cfg, key, v, `--${flag}`);
    else if (v === true) cfg = setClassifyConfigKey(cfg, key, "true", `--${flag}`);
  }
  if (typeof p.values.set === "string") {
    for (const kv of p.values.set.split(",")) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new Error(`--set: expected key=value, got ${JSON.stringify(kv)}`);
      cfg = setClassifyConfigKey(cfg, kv.slice(0, eq).trim(), kv.slice(eq + 1).trim(), "--set");
    }
  }
  await initBackend(typeof p.values.backend === "string" ? { backend: p.values.backend } : {});
  const r = await trainClassifyRun(cfg, {
    runId: typeof p.values.run === "string" ? p.values.run : undefined,
    runsDir: typeof p.values["runs-dir"] === "string" ? p.values["runs-dir"] : env.runsDir,
  });
  const out = { run: r.run, task: r.task, label: r.label, classes: r.classes, best_val_accuracy: r.best_val_accuracy, best_val_macro_f1: r.best_val_macro_f1, final_val_accuracy: r.final_val_accuracy, final_val_macro_f1: r.final_val_macro_f1, steps: r.steps, weights_sha256: r.weights_sha256 };
  if (p.values.json) console.log(JSON.stringify(out));
  else console.log(`run ${r.run} (classify ${r.label}, ${r.classes} classes): best val accuracy ${r.best_val_accuracy.toFixed(4)}, best val macro F1 ${r.best_val_macro_f1.toFixed(4)}, ${r.steps} steps, ${r.seconds.toFixed(1)}s\nweights sha256 ${r.weights_sha256}\nfiles in ${r.dir}`);
  return 0;
}

export const command: Command = {
  summary: "train a model from a YAML config (flags override config keys; --resume continues exactly); --task classify trains a classifier",
  async run(argv) {
    const p = parseFlags("train", this.summary, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new Error(`unexpected argument ${p.positionals[0]} (options start with --)`);
    if (taskOf(p) === "classify") return runClassify(p);
    for (const f of ["label", "tags"]) if (p.values[f] !== undefined) throw new Error(`--${f} applies to --task classify only`);
    const file = required(p, "config");
    const cfg = loadConfig(file);
    for (const [flag, key] of Object.entries(TRAIN_FLAG_KEYS)) {
      const v = p.values[flag];
      if (typeof v === "string") overrideConfig(cfg, key, v, `--${flag}`);
      else if (v === true) overrideConfig(cfg, key, "true", `--${flag}`);
    }
    if (typeof p.values.set === "string") {
      for (const kv of p.values.set.split(",")) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new Error(`--set: expected key=value, got ${JSON.stringify(kv)}`);
        overrideConfig(cfg, kv.slice(0, eq).trim(), kv.slice(eq + 1).trim(), "--set");
      }
    }
    if (cfg.data.fold >= cfg.data.folds) throw new Error(`--fold ${cfg.data.fold}: expected 0..${cfg.data.folds - 1}`);
    const r = await trainRun(cfg, {
      resume: p.values.resume === true,
      runId: typeof p.values.run === "string" ? p.values.run : undefined,
      runsDir: typeof p.values["runs-dir"] === "string" ? p.values["runs-dir"] : env.runsDir,
    });
    const out = { run: r.run, best_val_f1: r.best_val_f1, untrained_val_f1: r.untrained_val_f1, steps: r.steps, weights_sha256: r.weights_sha256 };
    if (p.values.json) console.log(JSON.stringify(out));
    else console.log(`run ${r.run}: best val F1 ${r.best_val_f1?.toFixed(4)} (untrained ${r.untrained_val_f1?.toFixed(4)}), ${r.steps} steps, ${r.seconds.toFixed(1)}s${r.stopReason ? ` (${r.stopReason})` : ""}\nweights sha256 ${r.weights_sha256}\nfiles in ${r.dir}`);
    return 0;
  },
};
