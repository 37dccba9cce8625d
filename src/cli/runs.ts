/** `matchlab runs`: lists and compares training runs as a table, each with its task's primary metric by name. */
import { env } from "../env";
import { listRuns } from "../train/registry";
import { type Command, f4, type FlagSpec, formatTable, parseFlags, stringFlag } from "./common";

const FLAGS: Record<string, FlagSpec> = {
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  json: { type: "boolean", help: "print one JSON object per run instead of a table" },
};

export const command: Command = {
  summary: "list training runs (task, status, steps, the primary metric untrained/best/final and its name, time) as a table",
  async run(argv) {
    const p = parseFlags("runs", this.summary, FLAGS, argv);
    if (!p) return 0;
    const dir = stringFlag(p, "runs-dir") ?? env.runsDir;
    const runs = listRuns(dir);
    if (p.values.json) {
      for (const r of runs) console.log(JSON.stringify({ id: r.id, ...r.summary }));
      return 0;
    }
    if (runs.length === 0) {
      console.log(`no runs in ${dir} (train one with: matchlab train --config configs/quick.yaml)`);
      return 0;
    }
    const header = ["run", "status", "task", "fold", "seed", "steps", "epochs", "metric", "untrained", "best", "final", "Δbest", "time", "weights"];
    const rows = runs.map(({ id, summary: s }) => {
      const gain = s?.best != null && s?.untrained != null ? s.best - s.untrained : null;
      return [
        id,
        s?.status ?? "?",
        s?.task ?? "?",
        String(s?.fold ?? "-"),
        String(s?.seed ?? "-"),
        String(s?.steps ?? "-"),
        String(s?.epochs ?? "-"),
        s?.metric ?? "-",
        f4(s?.untrained),
        f4(s?.best),
        f4(s?.final),
        gain === null ? "-" : (gain >= 0 ? "+" : "") + gain.toFixed(4),
        s ? `${s.seconds.toFixed(0)}s` : "-",
        s?.weights_sha256 ? s.weights_sha256.slice(0, 12) : "-",
      ];
    });
    console.log(formatTable(header, rows));
    return 0;
  },
};
