/**
 * `matchlab study`: a grid of classifier configs (e.g. fusion × tags) over stratified folds;
 * writes runs/study-<name>-<time>/{results.csv, summary.csv, study.yaml, <arm>-fold<k>/metrics.csv}
 * and prints the mean ± std table.
 */
import path from "node:path";
import { initBackend } from "../backend/init_backend";
import { env } from "../env";
import { loadStudyConfig } from "../imbalance/config";
import { formatMeanStd, runStudy, STUDY_METRICS } from "../imbalance/study";
import { type FlagSpec, intFlag, parseFlags, required } from "./args";
import type { Command } from "./main";

const SUMMARY = "run a classification grid study (e.g. {concat, transformer fusion} × {with, without tags}) over folds; mean ± std per arm";
const FLAGS: Record<string, FlagSpec> = {
  config: {
    type: "string",
    help: "study YAML (configs/study.yaml, configs/study_weights.yaml, …)",
  },
  folds: { type: "string", help: "number of folds (overrides data.folds)" },
  "run-folds": {
    type: "string",
    help: "train only the first N folds (overrides data.run_folds)",
  },
  dataset: {
    type: "string",
    help: "dataset folder (overrides data.dataset and $MATCHLAB_DATASET)",
  },
  limit: {
    type: "string",
    help: "use only the first N listings (overrides data.limit)",
  },
  epochs: { type: "string", help: "epochs per run (overrides optim.epochs)" },
  out: {
    type: "string",
    help: "output folder (default: runs/study-<name>-<time>)",
  },
  json: {
    type: "boolean",
    default: false,
    help: "end with one JSON line: {dir, classes, rows, arms: [{arm, folds, <metric>: {mean, std}}]}",
  },
};

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("study", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new Error(`unexpected argument ${p.positionals[0]} (options start with --)`);
    const study = loadStudyConfig(required(p, "config"));
    const base = study.base;
    if (p.values.dataset !== undefined) base.data.dataset = String(p.values.dataset);
    const limit = intFlag(p, "limit", base.data.limit);
    const epochs = intFlag(p, "epochs", base.optim.epochs);
    const runFolds = intFlag(p, "run-folds", base.data.run_folds);
    if (limit < 0) throw new Error(`--limit must be >= 0, got ${limit}`);
    if (epochs < 1) throw new Error(`--epochs must be >= 1, got ${epochs}`);
    if (runFolds < 0) throw new Error(`--run-folds must be >= 0, got ${runFolds}`);
    base.data.limit = limit;
    base.optim.epochs = epochs;
    base.data.run_folds = runFolds;
    const folds = intFlag(p, "folds", base.data.folds);
    if (folds < 2) throw new Error(`--folds must be >= 2, got ${folds}`);
    await initBackend();
    const t0 = Date.now();
    const out = await runStudy(study, {
      folds,
      outDir: p.values.out !== undefined ? path.resolve(String(p.values.out)) : undefined,
      onResult: (r) => {
        if (!p.values.json) console.error(`${r.arm} fold ${r.fold}: accuracy ${r.accuracy.toFixed(4)}, macro F1 ${r.macro_f1.toFixed(4)} (${r.seconds.toFixed(1)}s)`);
      },
    });
    const keys = Object.keys(out.summary[0]?.values ?? {});
    const head = [...(keys.length ? keys : ["arm"]), "folds", ...STUDY_METRICS];
    const lines = out.summary.map((s) => [...(keys.length ? keys.map((k) => String(s.values[k])) : [s.arm]), String(s.folds), ...STUDY_METRICS.map((m) => formatMeanStd(s.metrics[m]))]);
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    const table = [fmt(head), ...lines.map(fmt)].join("\n");
    const where = out.dir ? path.relative(env.root, out.dir) || out.dir : "(not written)";
    console.error(`${out.rows} listings, ${out.classes} classes (${base.data.label}), ${folds} folds; ${((Date.now() - t0) / 1000).toFixed(0)}s\n${table}\nresults: ${where}/results.csv`);
    if (p.values.json) {
      const arms = out.summary.map((s) => ({
        arm: s.arm,
        ...s.values,
        folds: s.folds,
        ...Object.fromEntries(STUDY_METRICS.map((m) => [m, s.metrics[m]])),
      }));
      console.log(
        JSON.stringify({
          dir: out.dir,
          classes: out.classes,
          rows: out.rows,
          arms,
        }),
      );
    }
    return 0;
  },
};
