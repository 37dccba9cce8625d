/**
 * `matchlab study --config X`: a grid over any dotted config keys (the config's `grid:`), every
 * arm trained on every fold through the one run driver, any task; writes
 * runs/study-<name>-<time>/{study.yaml, results.csv, summary.csv, <arm>-fold<k>/} and prints the
 * mean ± std table of the task's study metrics.
 */
import path from "node:path";
import { initBackend } from "../backend/init_backend";
import { env } from "../env";
import { loadConfig } from "../train/config";
import { formatMeanStd, runStudy } from "../train/study";
import { applyOverrides, type Command, configFlags, f4, type FlagSpec, formatTable, intFlag, parseFlags, required, stringFlag } from "./common";

const SUMMARY = "run a grid study (the config's grid: dotted key → values) over folds, any task; mean ± std per arm";
const FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", help: "study YAML: a run config with a grid (configs/study.yaml, configs/study_match.yaml, …)" },
  "run-folds": { type: "string", help: "train only the first N folds (default: all data.folds)" },
  out: { type: "string", help: "output folder (default: runs/study-<name>-<time>)" },
  json: { type: "boolean", default: false, help: "end with one JSON line: {dir, task, rows, metrics, arms: [{arm, <grid key>…, folds, <metric>: {mean, std}}]}" },
  ...configFlags(["fold"]),
};

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("study", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new Error(`unexpected argument ${p.positionals[0]} (options start with --)`);
    const cfg = applyOverrides(loadConfig(required(p, "config")), p);
    const runFolds = intFlag(p, "run-folds", 0);
    if (runFolds < 0) throw new Error(`--run-folds must be >= 0, got ${runFolds}`);
    await initBackend({ backend: cfg.backend });
    const t0 = Date.now();
    const out = await runStudy(cfg, {
      runFolds,
      outDir: stringFlag(p, "out") !== undefined ? path.resolve(stringFlag(p, "out")!) : undefined,
      onResult: (r, run) => {
        if (!p.values.json) console.error(`${r.arm} fold ${r.fold}: ${run.metric} ${f4(run.final)} (${r.seconds.toFixed(1)}s)`);
      },
    });
    const keys = Object.keys(cfg.grid);
    const head = [...(keys.length ? keys : ["arm"]), "folds", ...out.metrics];
    const lines = out.summary.map((s) => [...(keys.length ? keys.map((k) => String(s.values[k])) : [s.arm]), String(s.folds), ...out.metrics.map((m) => formatMeanStd(s.metrics[m]!))]);
    const where = path.relative(env.root, out.dir) || out.dir;
    console.error(`${cfg.task}: ${out.rows} listings, ${out.summary[0]?.folds ?? 0} folds; ${((Date.now() - t0) / 1000).toFixed(0)}s\n${formatTable(head, lines)}\nresults: ${where}/results.csv`);
    if (p.values.json) {
      const arms = out.summary.map((s) => ({ arm: s.arm, ...s.values, folds: s.folds, ...s.metrics }));
      console.log(JSON.stringify({ dir: out.dir, task: cfg.task, rows: out.rows, metrics: out.metrics, arms }));
    }
    return 0;
  },
};
