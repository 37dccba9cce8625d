/** `matchlab train --config configs/<name>.yaml [--fold k] [--resume]`: one training run. */
import { env } from "../env";
import { loadConfig, overrideConfig } from "../train/config";
import { trainRun } from "../train/run";
import { type FlagSpec, parseFlags, required } from "./args";
import type { Command } from "./main";

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
  config: { type: "string", help: "the run config (YAML)" },
  resume: { type: "boolean", help: "continue the run from its newest checkpoint (the newest unfinished run of this config, fold and seed, or --run)" },
  run: { type: "string", help: "run id (folder under runs/); default: a new <name>-f<fold>-s<seed>-<time>" },
  json: { type: "boolean", help: 'end by printing one JSON line {"run","best_val_f1","untrained_val_f1","steps","weights_sha256"}' },
  set: { type: "string", help: "override other config keys: key=value[,key=value…] (dotted keys, e.g. optim.lr=3e-4)" },
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  ...Object.fromEntries(
    Object.entries(TRAIN_FLAG_KEYS).map(([k, key]) => [k, { type: BOOLEAN_FLAGS.has(k) ? "boolean" : "string", help: `overrides ${key}` } satisfies FlagSpec]),
  ),
};

export const command: Command = {
  summary: "train a model from a YAML config (flags override config keys; --resume continues exactly)",
  async run(argv) {
    const p = parseFlags("train", this.summary, FLAGS, argv);
    if (!p) return 0;
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
