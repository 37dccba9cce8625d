/** `matchlab runs`: lists and compares training runs as a table. */
import { env } from "../env";
import { listRuns } from "../train/registry";
import { type FlagSpec, parseFlags } from "./args";
import type { Command } from "./main";

const FLAGS: Record<string, FlagSpec> = {
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  json: { type: "boolean", help: "print one JSON object per run instead of a table" },
};

const f4 = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(4));

/** Formats rows as an aligned text table. */
export function formatRunsTable(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd();
  return [line(header), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

export const command: Command = {
  summary: "list training runs (task, status, steps, untrained/best/final validation F1 — matching F1, or macro F1 for classify — time) as a table",
  async run(argv) {
    const p = parseFlags("runs", this.summary, FLAGS, argv);
    if (!p) return 0;
    const dir = typeof p.values["runs-dir"] === "string" ? p.values["runs-dir"] : env.runsDir;
    const runs = listRuns(dir);
    if (p.values.json) {
      for (const r of runs) console.log(JSON.stringify({ id: r.id, ...r.summary }));
      return 0;
    }
    if (runs.length === 0) {
      console.log(`no runs in ${dir} (train one with: matchlab train --config configs/quick.yaml)`);
      return 0;
    }
    const header = ["run", "status", "task", "fold", "seed", "steps", "epochs", "untrained_f1", "best_f1", "final_f1", "Δbest", "time", "weights"];
    const rows = runs.map(({ id, summary: s }) => [
      id,
      s?.status ?? "?",
      s?.task ?? "match",
      String(s?.fold ?? "-"),
      String(s?.seed ?? "-"),
      String(s?.steps ?? "-"),
      String(s?.epochs ?? "-"),
      f4(s?.untrained_val_f1),
      f4(s?.best_val_f1),
      f4(s?.final_val_f1),
      s?.best_val_f1 != null && s?.untrained_val_f1 != null ? (s.best_val_f1 - s.untrained_val_f1 >= 0 ? "+" : "") + (s.best_val_f1 - s.untrained_val_f1).toFixed(4) : "-",
      s ? `${s.seconds.toFixed(0)}s` : "-",
      s?.weights_sha256 ? s.weights_sha256.slice(0, 12) : "-",
    ]);
    console.log(formatRunsTable(header, rows));
    return 0;
  },
};
