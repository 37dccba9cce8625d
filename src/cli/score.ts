/**
 * `matchlab score --submission sub.csv --labels test_labels.csv`: the competition metric (mean
 * per-posting F1) of a `posting_id,matches` submission against `posting_id,label_group` labels.
 */
import { existsSync, readFileSync } from "node:fs";
import { CsvError, parseCsv } from "../data/csv";
import { SubmissionError } from "../data/submission";
import { f1BySizeBand, matchScores } from "../metrics/matching";
import { type Command, f4, type FlagSpec, formatTable, parseFlags, required } from "./common";

const SUMMARY = "score a posting_id,matches submission against posting_id,label_group labels (mean per-posting F1)";
const FLAGS: Record<string, FlagSpec> = {
  submission: { type: "string", help: "the submission CSV (posting_id,matches)" },
  labels: { type: "string", help: "the labels CSV (posting_id,label_group), e.g. test_labels.csv from matchlab holdout, or a train.csv" },
  json: { type: "boolean", help: "print one JSON line {f1, precision, recall, postings} (with --by-size, by_size too)" },
  "by-size": { type: "boolean", help: "also the F1 by true group size, in bands that double (2, 3–4, 5–8, …): where the matcher fails" },
};

function columns(file: string, want: readonly string[]): string[][] {
  if (!existsSync(file)) throw new CsvError(`file not found: ${file} (expected a CSV with columns ${want.join(",")})`);
  const t = parseCsv(readFileSync(file, "utf8"), file);
  const at = want.map((c) => t.header.indexOf(c));
  const missing = want.filter((_, i) => at[i]! < 0);
  if (missing.length) throw new CsvError(`${file}: no column ${missing.join(", ")} (header: ${t.header.join(",")}; expected columns ${want.join(",")})`);
  return t.rows.map((r, j) => {
    if (r.length !== t.header.length) throw new CsvError(`${file}:${t.lines[j]}: ${r.length} fields, expected ${t.header.length} (${t.header.join(",")})`);
    return at.map((i) => r[i]!);
  });
}

export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("score", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    const subFile = required(p, "submission");
    const labFile = required(p, "labels");
    const labels = columns(labFile, ["posting_id", "label_group"]);
    const sub = columns(subFile, ["posting_id", "matches"]);
    for (const [file, rows] of [[labFile, labels], [subFile, sub]] as const) {
      const seen = new Set<string>();
      const twice = rows.filter(([id]) => seen.has(id!) || !seen.add(id!)).map(([id]) => id!);
      if (twice.length) throw new SubmissionError(`${file}: ${twice.length} posting id(s) appear more than once (e.g. ${twice.slice(0, 3).join(", ")}); expected one row per posting`);
    }
    const index = new Map(labels.map(([id], i) => [id!, i]));
    const byId = new Map(sub.map(([id, m]) => [id!, m!]));
    const missing = labels.filter(([id]) => !byId.has(id!)).map(([id]) => id!);
    if (missing.length) throw new SubmissionError(`${subFile}: ${missing.length} of ${labels.length} labelled postings have no row (e.g. ${missing.slice(0, 3).join(", ")}; expected one row per labelled posting)`);
    const extra = sub.filter(([id]) => !index.has(id!)).map(([id]) => id!);
    if (extra.length) throw new SubmissionError(`${subFile}: ${extra.length} rows are not in ${labFile} (e.g. ${extra.slice(0, 3).join(", ")}; expected only the labelled postings)`);
    const sets = labels.map(([id]) =>
      byId
        .get(id!)!
        .split(" ")
        .filter(Boolean)
        .map((m) => {
          const j = index.get(m);
          if (j === undefined) throw new SubmissionError(`${subFile}: posting ${id} matches ${m}, which is not in ${labFile} (expected matches among the labelled postings)`);
          return j;
        }),
    );
    const groups = new Map<string, number>();
    for (const [, g] of labels) if (!groups.has(g!)) groups.set(g!, groups.size);
    const codes = Int32Array.from(labels, ([, g]) => groups.get(g!)!);
    const s = matchScores(sets, codes);
    const bySize = p.values["by-size"] ? f1BySizeBand(s, codes) : null;
    if (p.values.json) console.log(JSON.stringify({ f1: s.f1, precision: s.precision, recall: s.recall, postings: labels.length, ...(bySize ? { by_size: bySize } : {}) }));
    else {
      console.log(`F1 ${s.f1.toFixed(4)} (precision ${s.precision.toFixed(4)}, recall ${s.recall.toFixed(4)}) over ${labels.length} postings`);
      if (bySize) {
        const rows = bySize.map((b) => [b.from === b.to ? String(b.from) : `${b.from}–${b.to}`, String(Math.round(b.groups)), String(b.count), f4(b.f1), f4(b.precision), f4(b.recall)]);
        console.log(formatTable(["group size", "groups", "postings", "F1", "precision", "recall"], rows));
      }
    }
    return 0;
  },
};
