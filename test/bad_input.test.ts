/**
 * The bad-input suite: one table row per bad input a user can hand matchlab (CSVs, YAML configs,
 * CLI flags, checkpoints, embedding files, run ids, folds files, submissions). Each row writes its
 * input into a fresh temp folder, calls the library or the CLI in-process, and asserts the error's
 * class (one of matchlab's named errors) and that its message names the input and what was expected.
 * A message holding a stack frame ("    at ") or an error of a class that is not matchlab's (a bare
 * Error, TypeError, SyntaxError, a system error) counts as a stack trace; the suite prints
 * `bad-input: N cases, N named errors, 0 stack traces` and asserts there are none.
 *
 * Environment-variable cases set the variable for the case only, as `matchlab` would see it. Diverging
 * runs have their own tests (test/train/divergence*.test.ts): they need a training run, not a bad file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { COMMANDS } from "../src/cli/main";
import { UsageError } from "../src/cli/common";
import { ConfigError } from "../src/config";
import { CsvError, formatCsv } from "../src/data/csv";
import { DatasetError, loadDataset } from "../src/data/dataset";
import { ImageDecodeError, readImage } from "../src/data/image";
import { checkEnv, EnvError } from "../src/env";
import { FileError } from "../src/fs_atomic";
import { NameError } from "../src/names";
import { SubmissionError } from "../src/data/submission";
import { FoldsError, loadFolds } from "../src/folds/io";
import { EmbeddingFileError, readEmbeddingsFile, RunNotFoundError, writeEmbeddingsFile } from "../src/retrieval/embedding_file";
import { CheckpointError, loadCheckpoint, restoreWeights, saveCheckpoint } from "../src/train/checkpoint";
import { loadConfig } from "../src/train/config";
import { runCli } from "./cli/run_cli";
import { pngClaiming, truncate } from "./data/bad_png";
import { readOnlyFolder } from "./read_only";
import { writeTinyDataset } from "./train/fixture";

type ErrorClass = new (...args: never[]) => Error;

/** matchlab's named errors: anything else reaching the user counts as a stack trace. */
const PROJECT_ERRORS: readonly ErrorClass[] = [ConfigError, CsvError, DatasetError, ImageDecodeError, EnvError, NameError, FileError, FoldsError, CheckpointError, EmbeddingFileError, RunNotFoundError, UsageError, SubmissionError];

interface Case {
  /** What is bad, in a few words. */
  name: string;
  /** Writes the bad input (and anything it needs) into `dir`, a fresh temp folder. */
  setup?: (dir: string) => void | Promise<void>;
  /** `MATCHLAB_*` variables set for this case only. */
  env?: Record<string, string>;
  /** Undoes what `setup` did outside `dir` (a mount). */
  teardown?: (dir: string) => void;
  /** The library call, or `cli(...)`, that reads it. */
  run: (dir: string) => unknown;
  /** The error class expected. */
  error: ErrorClass;
  /** What the message must say: the input's name and what was expected. */
  message: RegExp;
}

/** A marker for a CLI case: argv for `matchlab`, with `{dir}` replaced by the case's folder. */
interface CliRun {
  cli: string[];
}
const cli = (...argv: string[]): CliRun => ({ cli: argv });
const isCli = (x: unknown): x is CliRun => typeof x === "object" && x !== null && Array.isArray((x as CliRun).cli);

const write = (file: string, text: string | Uint8Array) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
};

/** A good dataset CSV's rows (two groups of two). */
const GOOD_ROWS = [
  ["a1", "a1.png", "red apple", "g1"],
  ["a2", "a2.png", "green apple", "g1"],
  ["b1", "b1.png", "yellow banana", "g2"],
  ["b2", "b2.png", "ripe banana", "g2"],
];
const HEADER = ["posting_id", "image", "title", "label_group"];

/** Writes `<dir>/ds/train.csv` (text as given) and an empty `<dir>/ds/train_images/`. */
function dataset(dir: string, csv: string): string {
  const ds = path.join(dir, "ds");
  write(path.join(ds, "train.csv"), csv);
  mkdirSync(path.join(ds, "train_images"), { recursive: true });
  return ds;
}
const goodCsv = (rows = GOOD_ROWS, header = HEADER) => formatCsv(header, rows);
const load = (dir: string) => loadDataset(path.join(dir, "ds"), { checkImages: false });

/** A small valid run config (the sample's tiny model), as YAML lines. */
const YAML_OK = ["name: tiny", "seed: 1", "backend: cpu", "data: { folds: 4, fold: 0, image_size: 8 }", "optim: { batch_size: 4, epochs: 1, lr: 0.01 }"];

/** Writes a checkpoint holding `weights` (name → shape) to `<dir>/c.ckpt`. */
function checkpoint(dir: string, weights: Record<string, number[]>): string {
  const file = path.join(dir, "c.ckpt");
  const tensors = Object.entries(weights).map(([name, shape]) => ({ name, shape, dtype: "float32" as const, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }));
  const meta = { position: { epoch: 0, batchInEpoch: 0, step: 3 }, seed: 1, config: {}, metrics: {}, callbacks: {}, optimizerT: 3, weightsSha256: "x" };
  saveCheckpoint(file, { meta, tensors } as unknown as Parameters<typeof saveCheckpoint>[1]);
  return file;
}
const cut = (file: string, bytes: number) => {
  writeFileSync(file, readFileSync(file).subarray(0, bytes));
};

/** Writes `<dir>/e.f32` with 3 rows of dim 4 and its sidecar; `side` replaces sidecar fields (null: no sidecar). */
function embeddings(dir: string, side?: Record<string, unknown> | null, bytes?: number): string {
  const file = path.join(dir, "e.f32");
  writeEmbeddingsFile(file, new Float32Array(12).fill(0.25), 4, { postingIds: ["a1", "a2", "b1"] });
  if (side === null) writeFileSync(path.join(dir, "e.json"), "");
  if (side) writeFileSync(path.join(dir, "e.json"), JSON.stringify({ format: "matchlab-embeddings-file/1", dim: 4, rows: 3, postingIds: ["a1", "a2", "b1"], ...side }));
  if (bytes !== undefined) writeFileSync(file, new Uint8Array(bytes));
  return file;
}

/** Writes `<dir>/folds.csv` (and, when given, its sidecar with `k`). */
function folds(dir: string, csv: string, k?: number | string): string {
  const file = path.join(dir, "folds.csv");
  write(file, csv);
  if (k !== undefined) write(`${file}.json`, typeof k === "string" ? k : JSON.stringify({ scheme: "kfold", k, seed: 0, shuffle: false }));
  return file;
}

/** Writes `<dir>/labels.csv` (the good rows' posting_id,label_group) and `<dir>/sub.csv` as given. */
function score(dir: string, sub: string, labels = goodCsv(GOOD_ROWS.map((r) => [r[0]!, r[3]!]), ["posting_id", "label_group"])): CliRun {
  write(path.join(dir, "labels.csv"), labels);
  write(path.join(dir, "sub.csv"), sub);
  return cli("score", "--submission", path.join(dir, "sub.csv"), "--labels", path.join(dir, "labels.csv"));
}

/** Writes the tiny dataset (2 groups × 3 rows, 8×8 PNGs g<group>_<k>.png, posting ids p<group>_<k>, on lines 2–7) to `<dir>/ds` and returns the path of image `g<g>_<k>.png`. */
async function imageDataset(dir: string, g: number, k: number): Promise<string> {
  await writeTinyDataset(path.join(dir, "ds"), { groups: 2 });
  return path.join(dir, "ds", "train_images", `g${g}_${k}.png`);
}
const loadDecoded = (dir: string) => loadDataset(path.join(dir, "ds"), { checkImages: "decode" });
const envCase = (name: string, env: Record<string, string>, message: RegExp): Case => ({ name, env, run: (d) => cli("runs", "--runs-dir", path.join(d, "runs")), error: EnvError, message });
/** Thrown by a case's setup when this machine cannot stage the input (the case is skipped, saying why). */
class CannotSetUp extends Error {}
/** The read-only folders the cases mounted: case folder → release. */
const readOnly = new Map<string, () => void>();

const TRAIN = (dir: string, ...extra: string[]) => cli("train", "--config", path.join(dir, "c.yaml"), "--runs-dir", path.join(dir, "runs"), ...extra);
const yamlCase = (name: string, lines: string[], message: RegExp): Case => ({
  name,
  setup: (dir) => write(path.join(dir, "c.yaml"), `${lines.join("\n")}\n`),
  run: (dir) => loadConfig(path.join(dir, "c.yaml")),
  error: ConfigError,
  message,
});

const CASES: Case[] = [
  // ── CSVs ──────────────────────────────────────────────────────────────────────────────────
  { name: "csv: missing title column", setup: (d) => void dataset(d, goodCsv(GOOD_ROWS.map((r) => [r[0]!, r[1]!, r[3]!]), ["posting_id", "image", "label_group"])), run: load, error: DatasetError, message: /train\.csv: 1 bad row:\n.*line 1: missing-column: missing required column title \(header is: posting_id, image, label_group; expected at least posting_id, image, title, label_group\)/ },
  { name: "csv: missing label_group (labels required)", setup: (d) => void dataset(d, goodCsv(GOOD_ROWS.map((r) => r.slice(0, 3)), HEADER.slice(0, 3))), run: load, error: DatasetError, message: /train\.csv: 1 bad row:\n.*missing required column label_group \(header is: posting_id, image, title; expected at least/ },
  { name: "csv: unterminated quote", setup: (d) => void dataset(d, `${goodCsv()}c1,c1.png,"open title,g3\n`), run: load, error: CsvError, message: /train\.csv:6: unterminated quoted field \(a field opened with " must close with "\)/ },
  { name: "csv: stray quote in an unquoted field", setup: (d) => void dataset(d, `${goodCsv()}c1,c1.png,say "hi",g3\n`), run: load, error: CsvError, message: /train\.csv:6: stray quote inside an unquoted field \(quote the whole field and double inner quotes\)/ },
  { name: "csv: text after a closing quote", setup: (d) => void dataset(d, `${goodCsv()}c1,c1.png,"quoted"tail,g3\n`), run: load, error: CsvError, message: /train\.csv:6: unexpected character "t" after a closing quote \(quotes inside a quoted field must be doubled/ },
  { name: "csv: empty file", setup: (d) => void dataset(d, ""), run: load, error: CsvError, message: /train\.csv: empty CSV \(expected a header line\)/ },
  { name: "csv: duplicate posting ids", setup: (d) => void dataset(d, goodCsv([...GOOD_ROWS, ["a1", "x.png", "another", "g2"]])), run: load, error: DatasetError, message: /line 6 \(posting_id a1\): duplicate-posting-id: posting_id a1 already used on line 2 \(expected unique ids\)/ },
  { name: "csv: empty title", setup: (d) => void dataset(d, goodCsv([...GOOD_ROWS, ["c1", "c1.png", " ", "g2"]])), run: load, error: DatasetError, message: /line 6 \(posting_id c1\): empty-title: title is empty \(expected the listing's text\)/ },
  { name: "csv: empty posting_id", setup: (d) => void dataset(d, goodCsv([...GOOD_ROWS, ["", "c1.png", "pear", "g2"]])), run: load, error: DatasetError, message: /line 6: empty-posting-id: posting_id is empty \(expected a unique non-empty id\)/ },
  { name: "csv: empty label_group", setup: (d) => void dataset(d, goodCsv([...GOOD_ROWS, ["c1", "c1.png", "pear", ""]])), run: load, error: DatasetError, message: /line 6 \(posting_id c1\): empty-label-group: label_group is empty \(expected the id of the group/ },
  { name: "csv: a row with too many fields (unquoted comma)", setup: (d) => void dataset(d, `${goodCsv()}c1,c1.png,pear, ripe,g2\n`), run: load, error: DatasetError, message: /line 6 \(posting_id c1\): wrong-field-count: 5 fields, expected 4 \(quote fields holding commas/ },
  { name: "csv: a singleton label_group", setup: (d) => void dataset(d, goodCsv([...GOOD_ROWS, ["c1", "c1.png", "pear", "g3"]])), run: load, error: DatasetError, message: /posting_id c1\): small-group: label_group g3 has 1 valid row \(expected at least 2/ },
  { name: "csv: dataset folder without train.csv", setup: (d) => mkdirSync(path.join(d, "ds")), run: load, error: DatasetError, message: /dataset CSV not found: .*ds[\\/]train\.csv \(expected <dir>\/train\.csv/ },
  { name: "csv: through the CLI (holdout), missing column", setup: (d) => void dataset(d, goodCsv(GOOD_ROWS.map((r) => [r[0]!, r[1]!, r[3]!]), ["posting_id", "image", "label_group"])), run: (d) => cli("holdout", "--dataset", path.join(d, "ds"), "--out", path.join(d, "out")), error: DatasetError, message: /train\.csv: 1 bad row:\n.*missing required column title \(header is/ },
  { name: "csv: matchlab folds on a CSV without the group column", setup: (d) => write(path.join(d, "t.csv"), goodCsv()), run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--scheme", "group", "--group", "shop", "--out", path.join(d, "f.csv")), error: CsvError, message: /t\.csv: no column shop \(--group\); columns are posting_id, image, title, label_group/ },
  { name: "csv: matchlab folds on a CSV that does not exist", run: (d) => cli("folds", "--csv", path.join(d, "none.csv"), "--out", path.join(d, "f.csv")), error: CsvError, message: /--csv .*none\.csv: file not found \(expected a dataset CSV with a posting_id column\)/ },

  // ── YAML configs ──────────────────────────────────────────────────────────────────────────
  yamlCase("yaml: syntax error", ["name: tiny", "optim: { lr: 0.1, epochs: 2", "seed: 1"], /c\.yaml:3:\d+: YAML syntax error: .* \(expected valid YAML\)/),
  yamlCase("yaml: bad indentation", ["optim:", "  lr: 0.1", " epochs: 2"], /c\.yaml:3:\d+: YAML syntax error: .*indentation.* \(expected valid YAML\)/),
  yamlCase("yaml: unknown top-level key", [...YAML_OK, "modle: {}"], /c\.yaml: unknown key modle \(expected one of task\|name\|seed/),
  yamlCase("yaml: unknown nested key", [...YAML_OK.slice(0, 4), "optim: { lrr: 0.1 }"], /c\.yaml: unknown key optim\.lrr \(expected one of optimizer\|lr\|/),
  yamlCase("yaml: a key named like an Object.prototype member", [...YAML_OK, "constructor: 1"], /c\.yaml: unknown key constructor \(expected one of /),
  yamlCase("yaml: wrong type (string for a number)", [...YAML_OK.slice(0, 4), "optim: { lr: fast }"], /c\.yaml: bad value for optim\.lr: "fast" \(expected a number/),
  yamlCase("yaml: wrong type (number for a boolean)", [...YAML_OK, "train: { evaluate_during_training: 3 }"], /c\.yaml: bad value for train\.evaluate_during_training: 3 \(expected true\|false\)/),
  yamlCase("yaml: out of range (batch size 0)", [...YAML_OK.slice(0, 4), "optim: { batch_size: 0 }"], /c\.yaml: bad value for optim\.batch_size: 0 \(expected an integer >= 1/),
  yamlCase("yaml: bad enum value", ["task: regress"], /c\.yaml: bad value for task: "regress" \(expected one of match\|classify\)/),
  yamlCase("yaml: fold out of range for folds", ["data: { folds: 4, fold: 4 }"], /c\.yaml: bad value for data\.fold: 4 \(expected an integer in \[0, 3\] for data\.folds 4\)/),
  yamlCase("yaml: a section given as a list", ["optim: [1, 2]"], /c\.yaml: optim must be a map, got \[1,2\]/),
  yamlCase("yaml: the file is a list, not a map", ["- name: tiny"], /c\.yaml: the config must be a map/),
  { name: "yaml: config file not found", run: (d) => loadConfig(path.join(d, "nope.yaml")), error: ConfigError, message: /config file not found: .*nope\.yaml \(expected a YAML file/ },
  { name: "yaml: through the CLI (train --config), unknown key", setup: (d) => write(path.join(d, "c.yaml"), `${[...YAML_OK, "optim2: {}"].join("\n")}\n`), run: (d) => TRAIN(d), error: ConfigError, message: /c\.yaml: unknown key optim2 \(expected one of / },

  // ── CLI flags ─────────────────────────────────────────────────────────────────────────────
  { name: "flag: not a number (--lr abc)", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--lr", "abc"), error: ConfigError, message: /--lr: bad value for optim\.lr: .*abc.* \(expected a number/ },
  { name: "flag: not an integer (--epochs 1.5)", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--epochs", "1.5"), error: ConfigError, message: /--epochs: bad value for optim\.epochs: .*1\.5.* \(expected an integer/ },
  { name: "flag: out of range (--fold 9 with 4 folds)", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--fold", "9"), error: ConfigError, message: /data\.fold: 9 \(expected an integer in \[0, 3\] for data\.folds 4\)/ },
  { name: "flag: bad enum (--task regress)", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--task", "regress"), error: ConfigError, message: /--task: bad value for task: "regress" \(expected one of match\|classify\)/ },
  { name: "flag: --set without =", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--set", "optim.lr"), error: ConfigError, message: /--set: expected key=value, got "optim\.lr"/ },
  { name: "flag: --set of an unknown key", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--set", "optim.lrr=1"), error: ConfigError, message: /--set: unknown key optim\.lrr \(expected one of / },
  { name: "flag: unknown flag", run: () => cli("score", "--submision", "x.csv"), error: UsageError, message: /Unknown option '--submision'.*\nknown options: --submission, --labels, --json/ },
  { name: "flag: missing required flag", run: () => cli("score", "--labels", "l.csv"), error: UsageError, message: /--submission is required/ },
  { name: "flag: integer flag given a word (folds --k five)", setup: (d) => write(path.join(d, "t.csv"), goodCsv()), run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--k", "five", "--out", path.join(d, "f.csv")), error: UsageError, message: /--k must be an integer, got five/ },
  { name: "flag: bad fold scheme", setup: (d) => write(path.join(d, "t.csv"), goodCsv()), run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--scheme", "random", "--out", path.join(d, "f.csv")), error: UsageError, message: /--scheme: unknown fold scheme: random \(expected kfold\|/ },
  { name: "flag: fraction out of range (holdout --frac 2)", run: (d) => cli("holdout", "--frac", "2", "--out", path.join(d, "o")), error: UsageError, message: /--frac must be a number in \(0, 1\), got 2/ },
  { name: "flag: bad enum (match --engine gpu)", run: (d) => cli("match", "--engine", "gpu", "--out", path.join(d, "o")), error: UsageError, message: /unknown engine: gpu \(expected auto\|onnx\|tfjs\|js\)/ },
  { name: "flag: not a number (match --min-similarity high)", setup: (d) => void dataset(d, goodCsv()), run: (d) => cli("match", "--min-similarity", "high", "--dataset", path.join(d, "ds"), "--tfidf", "--out", path.join(d, "o")), error: UsageError, message: /--min-similarity must be a number, got high/ },
  { name: "flag: cv --parallel 0", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => cli("cv", "--config", path.join(d, "c.yaml"), "--parallel", "0", "--runs-dir", path.join(d, "runs")), error: UsageError, message: /--parallel must be >= 1, got 0/ },
  { name: "flag: predict with both --ensemble and --runs", run: (d) => cli("predict", "--ensemble", path.join(d, "e.json"), "--runs", "r1", "--out", path.join(d, "sub.csv")), error: UsageError, message: /give --ensemble or --runs, not both/ },
  { name: "flag: a stray argument (train)", run: () => cli("train", "quick.yaml"), error: UsageError, message: /unexpected argument quick\.yaml \(options start with --\)/ },
  { name: "flag: bad enum (data --background pink)", run: (d) => cli("data", "--background", "pink", "--out", path.join(d, "o")), error: UsageError, message: /--background must be white or transparent, got pink/ },

  // ── checkpoints ───────────────────────────────────────────────────────────────────────────
  { name: "checkpoint: truncated in a tensor", setup: (d) => cut(checkpoint(d, { w: [64, 64] }), 2000), run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: truncated at tensor w \(2000 bytes, expected \d+; an interrupted copy\? use an earlier checkpoint\)/ },
  { name: "checkpoint: truncated in the header", setup: (d) => cut(checkpoint(d, { w: [4] }), 40), run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: truncated in the header \(40 bytes; the header alone needs \d+\)/ },
  { name: "checkpoint: truncated before the header length", setup: (d) => cut(checkpoint(d, { w: [4] }), 9), run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: truncated in the header \(9 bytes; expected at least 12\)/ },
  { name: "checkpoint: zero bytes", setup: (d) => write(path.join(d, "c.ckpt"), ""), run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: not a matchlab checkpoint \(bad magic; expected a file starting with MLCKPT01\)/ },
  { name: "checkpoint: wrong format version", setup: (d) => {
      const f = checkpoint(d, { w: [4] });
      const b = readFileSync(f);
      b.write("99", 6, "latin1");
      writeFileSync(f, b);
    }, run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: checkpoint format version 99, expected 01/ },
  { name: "checkpoint: not a checkpoint (a PNG)", setup: (d) => write(path.join(d, "c.ckpt"), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82])), run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: not a matchlab checkpoint \(bad magic/ },
  { name: "checkpoint: corrupt header JSON", setup: (d) => {
      const f = checkpoint(d, { w: [4] });
      const b = readFileSync(f);
      b.write("#", 12, "latin1"); // the header's opening brace
      writeFileSync(f, b);
    }, run: (d) => loadCheckpoint(path.join(d, "c.ckpt")), error: CheckpointError, message: /c\.ckpt: corrupt header \(.*; expected JSON \{meta, tensors\}\)/ },
  { name: "checkpoint: from a different model (missing weights)", setup: (d) => void checkpoint(d, { "w/conv/kernel": [3, 3] }), run: (d) => withVars({ "dense/kernel": [4, 2] }, (vars) => restoreWeights(vars, loadCheckpoint(path.join(d, "c.ckpt")), path.join(d, "c.ckpt"))), error: CheckpointError, message: /c\.ckpt: no weights for dense\/kernel \(the checkpoint belongs to a different model: expected one written by this config\)/ },
  { name: "checkpoint: from a different model (other shape)", setup: (d) => void checkpoint(d, { "w/dense/kernel": [4, 3] }), run: (d) => withVars({ "dense/kernel": [4, 2] }, (vars) => restoreWeights(vars, loadCheckpoint(path.join(d, "c.ckpt")), path.join(d, "c.ckpt"))), error: CheckpointError, message: /c\.ckpt: dense\/kernel has shape \[4,3\], model expects \[4,2\] \(the checkpoint belongs to a different model\)/ },
  { name: "checkpoint: file missing", run: (d) => loadCheckpoint(path.join(d, "gone.ckpt")), error: CheckpointError, message: /checkpoint not found: .*gone\.ckpt \(expected a \.ckpt file/ },

  // ── embedding files ───────────────────────────────────────────────────────────────────────
  { name: "embeddings: size not whole rows", setup: (d) => void embeddings(d, undefined, 50), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.f32: 50 bytes is not a whole number of float32 rows of dim 4/ },
  { name: "embeddings: fewer rows than the sidecar says", setup: (d) => void embeddings(d, undefined, 32), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.f32: sidecar says 3 rows but the file holds 2/ },
  { name: "embeddings: sidecar not JSON", setup: (d) => void embeddings(d, null), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.json: not valid JSON \(.*\); expected the sidecar \{format, dim, rows, …\}/ },
  { name: "embeddings: sidecar with an unknown key", setup: (d) => void embeddings(d, { dims: 4 }), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.json: unknown key\(s\) dims \(expected format, dim, rows/ },
  { name: "embeddings: sidecar of another format", setup: (d) => void embeddings(d, { format: "npy" }), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.json: format is "npy", expected "matchlab-embeddings-file\/1"/ },
  { name: "embeddings: sidecar dim not a number", setup: (d) => void embeddings(d, { dim: "four" }), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.json: dim is "four", expected a positive integer/ },
  { name: "embeddings: sidecar with too few posting ids", setup: (d) => void embeddings(d, { postingIds: ["a1"] }), run: (d) => readEmbeddingsFile(path.join(d, "e.f32")), error: EmbeddingFileError, message: /e\.json: 1 posting ids for 3 rows/ },
  { name: "embeddings: no sidecar and no --dim (CLI)", setup: (d) => {
      dataset(d, goodCsv());
      write(path.join(d, "raw.f32"), new Uint8Array(64));
    }, run: (d) => cli("match", "--embeddings", path.join(d, "raw.f32"), "--dataset", path.join(d, "ds"), "--out", path.join(d, "o")), error: EmbeddingFileError, message: /raw\.f32: no sidecar raw\.json and no dim given \(pass --dim/ },

  // ── run ids ───────────────────────────────────────────────────────────────────────────────
  { name: "run id: match --runs names no run", setup: (d) => void dataset(d, goodCsv()), run: (d) => cli("match", "--runs", "no-such-run", "--runs-dir", path.join(d, "runs"), "--dataset", path.join(d, "ds"), "--out", path.join(d, "o")), error: RunNotFoundError, message: /run not found: no-such-run \(looked for .*runs[\\/]no-such-run; runs live in / },
  { name: "run id: train --resume --run names no run", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--resume", "--run", "tiny-f0-s1-gone"), error: RunNotFoundError, message: /--resume: run tiny-f0-s1-gone not found \(looked for .*runs[\\/]tiny-f0-s1-gone; runs live in / },
  { name: "run id: train --resume with no unfinished run", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--resume"), error: RunNotFoundError, message: /--resume: no unfinished match run of tiny \(fold 0, seed 1\) under .*runs; pass --run <id>/ },

  // ── folds files ───────────────────────────────────────────────────────────────────────────
  { name: "folds: missing fold column", setup: (d) => void folds(d, "posting_id,split\na1,0\n"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv: expected columns posting_id,fold, got posting_id,split/ },
  { name: "folds: fold not a number", setup: (d) => void folds(d, "posting_id,fold\na1,0\na2,x\n"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv:3: fold "x" is not an integer >= -1/ },
  { name: "folds: fold below -1", setup: (d) => void folds(d, "posting_id,fold\na1,-2\n"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv:2: fold "-2" is not an integer >= -1/ },
  { name: "folds: fold beyond k", setup: (d) => void folds(d, "posting_id,fold\na1,0\na2,7\n", 5), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv:3: fold 7 is out of range \(expected -1 or an integer in \[0, 4\] for k 5/ },
  { name: "folds: empty fold cell", setup: (d) => void folds(d, "posting_id,fold\na1,\n"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv:2: fold "" is not an integer >= -1/ },
  { name: "folds: duplicate posting id", setup: (d) => void folds(d, "posting_id,fold\na1,0\na1,1\n"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv:3: duplicate posting_id a1 \(expected one row per posting\)/ },
  { name: "folds: rows missing for the dataset", setup: (d) => void folds(d, "posting_id,fold\na1,0\na2,1\n"), run: (d) => loadFolds(path.join(d, "folds.csv"), ["a1", "a2", "b1"]), error: FoldsError, message: /folds\.csv: posting_id b1 has no fold \(expected a row for every posting/ },
  { name: "folds: sidecar not JSON", setup: (d) => void folds(d, "posting_id,fold\na1,0\n", "{k: 5"), run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds\.csv\.json: not valid JSON \(.*\); expected the sidecar matchlab folds writes/ },
  { name: "folds: more folds than groups (matchlab folds)", setup: (d) => write(path.join(d, "t.csv"), goodCsv()), run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--k", "5", "--out", path.join(d, "f.csv")), error: FoldsError, message: /cannot have k=5 folds with only 2 label groups \(need k <= groups\)/ },
  { name: "folds: file missing", run: (d) => loadFolds(path.join(d, "folds.csv")), error: FoldsError, message: /folds file not found: .*folds\.csv \(expected a posting_id,fold CSV/ },

  // ── submissions / score ───────────────────────────────────────────────────────────────────
  { name: "score: submission without a matches column", run: (d) => score(d, "posting_id,match\na1,a1\n"), error: CsvError, message: /sub\.csv: no column matches \(header: posting_id,match; expected columns posting_id,matches\)/ },
  { name: "score: labels without label_group", run: (d) => score(d, "posting_id,matches\na1,a1\n", "posting_id,group\na1,g1\n"), error: CsvError, message: /labels\.csv: no column label_group .*expected columns posting_id,label_group/ },
  { name: "score: duplicate posting in the submission", run: (d) => score(d, "posting_id,matches\na1,a1\na1,a1 a2\na2,a2\nb1,b1\nb2,b2\n"), error: SubmissionError, message: /sub\.csv: 1 posting id\(s\) appear more than once \(e\.g\. a1\); expected one row per posting/ },
  { name: "score: labelled postings missing from the submission", run: (d) => score(d, "posting_id,matches\na1,a1\n"), error: SubmissionError, message: /sub\.csv: 3 of 4 labelled postings have no row \(e\.g\. a2, b1, b2; expected one row per labelled posting\)/ },
  { name: "score: a row not in the labels", run: (d) => score(d, "posting_id,matches\na1,a1\na2,a2\nb1,b1\nb2,b2\nzz,zz\n"), error: SubmissionError, message: /sub\.csv: 1 rows are not in .*labels\.csv \(e\.g\. zz; expected only the labelled postings\)/ },
  { name: "score: a match naming an unknown posting", run: (d) => score(d, "posting_id,matches\na1,a1 qq\na2,a2\nb1,b1\nb2,b2\n"), error: SubmissionError, message: /sub\.csv: posting a1 matches qq, which is not in .*labels\.csv \(expected matches among the labelled postings\)/ },
  { name: "score: a row with a stray quote", run: (d) => score(d, 'posting_id,matches\na1,a"1\n'), error: CsvError, message: /sub\.csv:2: stray quote inside an unquoted field/ },
  { name: "score: submission file missing", run: (d) => cli("score", "--submission", path.join(d, "none.csv"), "--labels", path.join(d, "none.csv")), error: CsvError, message: /file not found: .*none\.csv \(expected a CSV with columns posting_id,label_group\)/ },

  // ── images ────────────────────────────────────────────────────────────────────────────────
  { name: "image: zero-byte file", setup: async (d) => writeFileSync(await imageDataset(d, 0, 1), ""), run: loadDecoded, error: DatasetError, message: /train\.csv: 1 bad row:\n {2}line 3 \(posting_id p0_1\): corrupt-image: image .*g0_1\.png: the file is empty \(0 bytes; expected a complete PNG/ },
  { name: "image: not an image", setup: async (d) => writeFileSync(await imageDataset(d, 1, 0), "GIF89a, or so it says"), run: loadDecoded, error: DatasetError, message: /line 5 \(posting_id p1_0\): corrupt-image: image .*g1_0\.png: does not decode \(.*; expected a complete PNG/ },
  { name: "image: truncated (decoded)", setup: async (d) => truncate(await imageDataset(d, 0, 2)), run: loadDecoded, error: DatasetError, message: /line 4 \(posting_id p0_2\): corrupt-image: image .*g0_2\.png: does not decode/ },
  { name: "image: huge dimensions", setup: async (d) => writeFileSync(await imageDataset(d, 1, 2), pngClaiming(20000, 20000)), run: loadDecoded, error: DatasetError, message: /line 7 \(posting_id p1_2\): image-too-large: image .*g1_2\.png: image is 20000×20000 = 400000000 pixels, over the limit of 40000000 pixels/ },
  { name: "image: file missing", setup: async (d) => rmSync(await imageDataset(d, 1, 1)), run: loadDecoded, error: DatasetError, message: /line 6 \(posting_id p1_1\): missing-image: image file not found: .*g1_1\.png/ },
  { name: "image: a symlink out of the image folder", setup: async (d) => {
      const f = await imageDataset(d, 0, 0);
      writeFileSync(path.join(d, "outside.png"), readFileSync(f));
      rmSync(f);
      symlinkSync(path.join(d, "outside.png"), f);
    }, run: loadDecoded, error: DatasetError, message: /line 2 \(posting_id p0_0\): image-escapes-folder: image .*g0_0\.png is a symlink to .*outside\.png, outside the image folder .*train_images \(expected a file inside it\)/ },
  { name: "image: truncated, read alone", setup: async (d) => truncate(await imageDataset(d, 0, 0)), run: (d) => readImage(path.join(d, "ds", "train_images", "g0_0.png")), error: ImageDecodeError, message: /image .*g0_0\.png: does not decode \(.*; expected a complete PNG/ },
  { name: "image: truncated, through the CLI (match --baseline)", setup: async (d) => truncate(await imageDataset(d, 1, 0)), run: (d) => cli("match", "--dataset", path.join(d, "ds"), "--baseline", "--out", path.join(d, "sub.csv")), error: DatasetError, message: /train\.csv: 1 bad row:\n {2}line 5 \(posting_id p1_0\): corrupt-image: image .*g1_0\.png: does not decode/ },

  // ── environment variables ─────────────────────────────────────────────────────────────────
  envCase("env: MATCHLAB_BACKEND not a backend", { MATCHLAB_BACKEND: "foo" }, /environment variable MATCHLAB_BACKEND="foo" is not valid \(expected auto\|tensorflow\|wasm\|cpu\)/),
  envCase("env: MATCHLAB_SEED negative", { MATCHLAB_SEED: "-1" }, /environment variable MATCHLAB_SEED="-1" is not valid \(expected a non-negative integer\)/),
  envCase("env: MATCHLAB_SEED not an integer", { MATCHLAB_SEED: "1.5" }, /environment variable MATCHLAB_SEED="1\.5" is not valid \(expected a non-negative integer\)/),
  envCase("env: MATCHLAB_WASM_THREADS out of range", { MATCHLAB_WASM_THREADS: "99" }, /environment variable MATCHLAB_WASM_THREADS="99" is not valid \(expected an integer in 1\.\.8\)/),
  envCase("env: MATCHLAB_WASM_SIMD not a mode", { MATCHLAB_WASM_SIMD: "fast" }, /environment variable MATCHLAB_WASM_SIMD="fast" is not valid \(expected auto\|plain\|off\)/),
  envCase("env: MATCHLAB_SLURM_POLL_S zero", { MATCHLAB_SLURM_POLL_S: "0" }, /environment variable MATCHLAB_SLURM_POLL_S="0" is not valid \(expected a number of seconds > 0\)/),

  // ── names that become paths ───────────────────────────────────────────────────────────────
  { name: "name: run id with a path separator (train --run)", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => TRAIN(d, "--run", "../../etc"), error: NameError, message: /run id "\.\.\/\.\.\/etc" has a path separator \(a name: .*no path separators and no "\.\."\)/ },
  { name: "name: config name with a path separator", setup: (d) => write(path.join(d, "c.yaml"), `${[...YAML_OK.slice(1), "name: ../up"].join("\n")}\n`), run: (d) => TRAIN(d), error: NameError, message: /config name "\.\.\/up" has a path separator/ },
  { name: "name: cv --id starting with a dot", setup: (d) => write(path.join(d, "c.yaml"), `${YAML_OK.join("\n")}\n`), run: (d) => cli("cv", "--config", path.join(d, "c.yaml"), "--id", ".hidden", "--runs-dir", path.join(d, "runs")), error: NameError, message: /--id "\.hidden" starts with a dot/ },

  // ── failing writes ────────────────────────────────────────────────────────────────────────
  { name: "write: a file where the output folder should be", setup: (d) => {
      write(path.join(d, "t.csv"), goodCsv());
      write(path.join(d, "out"), "a file");
    }, run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--k", "2", "--out", path.join(d, "out", "f.csv")), error: FileError, message: /cannot create folder .*out: a file is in the way where a folder should be \(EEXIST\)|cannot write .*f\.csv: a part of the path is a file, not a folder \(ENOTDIR\)/ },
  { name: "write: a read-only folder", setup: (d) => {
      write(path.join(d, "t.csv"), goodCsv());
      const ro = readOnlyFolder(path.join(d, "ro"));
      if (!ro) throw new CannotSetUp("no read-only folder can be made here (root without the right to mount)");
      readOnly.set(d, ro.release);
    }, teardown: (d) => readOnly.get(d)?.(), run: (d) => cli("folds", "--csv", path.join(d, "t.csv"), "--k", "2", "--out", path.join(d, "ro", "f.csv")), error: FileError, message: /cannot write .*ro[\\/]f\.csv: (read-only file system \(EROFS\)|permission denied \(a read-only folder\?\) \(EACCES\))/ },
];

/** Runs `f` with tf variables of the given shapes as named params, disposing them after. */
function withVars<T>(shapes: Record<string, number[]>, f: (vars: { name: string; variable: tf.Variable }[]) => T): T {
  const vars = Object.entries(shapes).map(([name, shape]) => ({ name, variable: tf.variable(tf.zeros(shape)) }));
  try {
    return f(vars as never);
  } finally {
    for (const v of vars) v.variable.dispose();
  }
}

/** Runs a CLI case: the command's own error (class and message), and what `matchlab` prints for it. */
async function runCliCase(argv: string[]): Promise<{ error: unknown; printed: string; code: number }> {
  const [name, ...rest] = argv;
  const { command } = await COMMANDS[name!]!();
  let error: unknown = null;
  const quiet = [vi.spyOn(console, "log").mockImplementation(() => {}), vi.spyOn(console, "error").mockImplementation(() => {}), vi.spyOn(console, "warn").mockImplementation(() => {})];
  try {
    checkEnv(); // as main does before any command
    await command.run(rest);
  } catch (e) {
    error = e;
  } finally {
    for (const q of quiet) q.mockRestore();
  }
  const { code, err } = await runCli(argv);
  return { error, printed: err, code };
}

const tally = { cases: 0, named: 0, traces: 0 };
const isTrace = (e: unknown) => !(e instanceof Error) || !PROJECT_ERRORS.some((c) => e.constructor === c) || /\n\s{4}at /.test(e.message);

let root = "";
const saved = process.env.MATCHLAB_DEBUG;
beforeAll(async () => {
  await tf.setBackend("cpu"); // the "different model" cases build tf variables
  root = mkdtempSync(path.join(os.tmpdir(), "ml-bad-input-"));
  delete process.env.MATCHLAB_DEBUG; // the CLI shows a stack only with it set
});
afterAll(() => {
  if (saved !== undefined) process.env.MATCHLAB_DEBUG = saved;
  console.log(`bad-input: ${tally.cases} cases, ${tally.named} named errors, ${tally.traces} stack traces`);
});

describe("bad inputs give a named error naming the input and what was expected", () => {
  it("has at least 40 cases with unique names", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.for(CASES.map((c, i) => [c.name, i] as const))("%s", async ([_name, i], ctx) => {
    const c = CASES[i]!;
    const dir = mkdtempSync(path.join(root, "case-"));
    try {
      await c.setup?.(dir);
    } catch (e) {
      if (e instanceof CannotSetUp) return ctx.skip(e.message);
      throw e;
    }
    const envBefore = Object.fromEntries(Object.keys(c.env ?? {}).map((k) => [k, process.env[k]]));
    Object.assign(process.env, c.env);
    tally.cases++;
    let error: unknown = null;
    let printed: string | null = null;
    try {
      const r = c.run(dir);
      if (isCli(r)) {
        const out = await runCliCase(r.cli);
        error = out.error;
        printed = out.printed;
        expect(out.code).toBe(1);
      } else await r;
    } catch (e) {
      error = e;
    } finally {
      for (const [k, v] of Object.entries(envBefore)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      c.teardown?.(dir);
    }
    if (error instanceof Error && !isTrace(error)) tally.named++;
    else tally.traces++;
    expect(error, "expected an error").toBeInstanceOf(Error);
    const e = error as Error;
    expect(`${e.constructor.name}: ${e.message}`).toMatch(new RegExp(`^${c.error.name}: `));
    expect(e.message).toMatch(c.message);
    expect(isTrace(e), `a stack trace or a foreign error class: ${e.constructor.name}: ${e.message}`).toBe(false);
    if (printed !== null) {
      // what the user sees: `matchlab <cmd>: <message>`, no stack
      expect(printed).toContain(`: ${e.message.split("\n")[0]}`);
      expect(printed).not.toMatch(/\n\s{4}at /);
    }
  });

  it("counts no stack traces", () => {
    expect(tally.traces).toBe(0);
    expect(tally.named).toBe(tally.cases);
  });
});

