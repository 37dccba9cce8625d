/**
 * `matchlab holdout --dataset DIR --frac 0.2 --out DIR2`: holds whole label groups out as an
 * unlabelled competition-style test set: DIR2/{train.csv, test.csv (no label_group),
 * test_labels.csv (for `matchlab score`), train_images, test_images}.
 */
import path from "node:path";
import { loadDataset } from "../data/dataset";
import { writeHoldout } from "../data/holdout";
import { env } from "../env";
import { holdoutGroups } from "../folds/holdout";
import { type Command, type FlagSpec, parseFlags, required, stringFlag, UsageError } from "./common";

const SUMMARY = "hold out whole label groups as an unlabelled test set (test.csv, test_labels.csv) beside the rest (train.csv)";
const FLAGS: Record<string, FlagSpec> = {
  dataset: { type: "string", help: "the labelled dataset folder (default: $MATCHLAB_DATASET)" },
  frac: { type: "string", default: "0.2", help: "share of rows to hold out, by whole groups" },
  seed: { type: "string", default: "0", help: "seed of the group order" },
  out: { type: "string", help: "output folder" },
  json: { type: "boolean", help: "print one JSON line {out, train, test, groups_held}" },
};

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("holdout", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    const frac = Number(p.values.frac);
    const seed = Number(p.values.seed);
    if (!(frac > 0 && frac < 1)) throw new UsageError(`--frac must be a number in (0, 1), got ${String(p.values.frac)}`);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be an integer >= 0, got ${String(p.values.seed)}`);
    const ds = await loadDataset(path.resolve(stringFlag(p, "dataset") ?? env.dataset), { checkImages: "exists" });
    const out = path.resolve(required(p, "out"));
    const split = holdoutGroups(ds.listings.map((l) => l.labelGroup), { frac, seed });
    const files = writeHoldout(ds, split, out);
    const held = new Set(Array.from(split.test, (r) => ds.listings[r]!.labelGroup)).size;
    if (p.values.json) console.log(JSON.stringify({ out, train: split.train.length, test: split.test.length, groups_held: held }));
    else console.log(`wrote ${path.relative(process.cwd(), out) || out}: ${split.train.length} training rows, ${split.test.length} test rows in ${held} held-out groups (test.csv unlabelled; labels in ${path.basename(files.labels)})`);
    return 0;
  },
};
