/** `matchlab folds`: makes cross-validation folds for a dataset CSV and writes `posting_id,fold`. */
import { existsSync, readFileSync } from "node:fs";
import { CsvError, parseCsv } from "../data/csv";
import { env } from "../env";
import { FOLD_SCHEMES, assertNoLeakage, columnForSplit, leakageReport, makeFolds, parseFoldScheme, saveFolds } from "../folds/index";
import { type Command, type FlagSpec, intFlag, parseFlags, required, UsageError } from "./common";

const SUMMARY = "make cross-validation folds (kfold|stratified|group|stratified-group|unseen) and write posting_id,fold";
const FLAGS: Record<string, FlagSpec> = {
  csv: { type: "string", help: "the dataset CSV (needs posting_id and the --label/--group columns)" },
  scheme: { type: "string", default: "unseen", help: "kfold|stratified|group|stratified-group|unseen" },
  k: { type: "string", default: "5", help: "number of folds" },
  seed: { type: "string", help: "seed for shuffling (default: $MATCHLAB_SEED or 0)" },
  label: { type: "string", default: "label_group", help: "class column for stratified schemes" },
  group: { type: "string", default: "label_group", help: "group column for group, stratified-group and unseen" },
  shuffle: { type: "boolean", default: false, help: "shuffle (seeded); without it kfold/stratified/group/stratified-group equal scikit-learn's" },
  out: { type: "string", help: "output CSV (posting_id,fold), written atomically, plus <out>.json with scheme, seed and k" },
};

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("folds", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]} (options start with --)`);
    const csv = required(p, "csv");
    const out = required(p, "out");
    if (!Object.hasOwn(FOLD_SCHEMES, String(p.values.scheme))) throw new UsageError(`--scheme: unknown fold scheme: ${String(p.values.scheme)} (expected ${Object.keys(FOLD_SCHEMES).join("|")})`);
    const scheme = parseFoldScheme(String(p.values.scheme));
    const k = intFlag(p, "k", 5);
    const seed = intFlag(p, "seed", env.seed);
    const shuffle = Boolean(p.values.shuffle);
    if (!existsSync(csv)) throw new CsvError(`--csv ${csv}: file not found (expected a dataset CSV with a posting_id column)`);
    const t = parseCsv(readFileSync(csv, "utf8"), csv);
    const col = (name: string, why: string) => {
      const i = t.header.indexOf(name);
      if (i < 0) throw new CsvError(`${csv}: no column ${name} (${why}); columns are ${t.header.join(", ")}`);
      return t.rows.map((r, j) => {
        if (r.length !== t.header.length) throw new CsvError(`${csv}:${t.lines[j]}: ${r.length} fields, expected ${t.header.length}`);
        return r[i]!;
      });
    };
    const ids = col("posting_id", "every row needs an id");
    const needs = FOLD_SCHEMES[scheme].needs;
    const labelCol = String(p.values.label);
    const groupCol = String(p.values.group);
    const labels = needs.includes("labels") ? columnForSplit(col(labelCol, "--label")) : undefined;
    const groups = needs.includes("groups") ? columnForSplit(col(groupCol, "--group")) : undefined;
    const split = makeFolds(scheme, { n: ids.length, labels, groups, k, seed, shuffle });
    for (const w of split.warnings) console.warn(`warning: ${w}`);
    if (groups) assertNoLeakage(split, groups, groupCol);
    const meta = saveFolds(out, ids, split, { csv, ...(labels ? { label: labelCol } : {}), ...(groups ? { group: groupCol } : {}) });
    console.log(`wrote ${out} (${ids.length} rows, ${scheme}, k=${k}, seed=${seed}${shuffle ? ", shuffled" : ""}; fold sizes ${meta.foldSizes.join("/")})`);
    if (!groups && t.header.includes("label_group")) {
      const leak = leakageReport(split, columnForSplit(col("label_group", "")));
      const n = leak.reduce((s, r) => s + r.leakedGroups, 0);
      if (n > 0) console.log(`note: ${n} validation label_groups also appear in train (expected for ${scheme}; use --scheme unseen to hold labels out)`);
    }
    return 0;
  },
};
