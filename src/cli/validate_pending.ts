/** `matchlab validate-pending`: evaluates checkpoints no run has validated yet. */
import { initBackend } from "../backend/index";
import { env } from "../env";
import { validatePending } from "../train/validate_pending";
import { type Command, type FlagSpec, parseFlags } from "./common";

const FLAGS: Record<string, FlagSpec> = {
  "runs-dir": { type: "string", help: "where runs live (default: runs/)" },
  run: { type: "string", help: "only this run" },
  backend: { type: "string", help: "compute backend (auto|tensorflow|wasm|cpu)" },
  json: { type: "boolean", help: "print one JSON line per validated checkpoint" },
};

export const command: Command = {
  summary: "validate every checkpoint that has not been validated yet (results in runs/<id>/validation.csv)",
  async run(argv) {
    const p = parseFlags("validate-pending", this.summary, FLAGS, argv);
    if (!p) return 0;
    await initBackend({ backend: typeof p.values.backend === "string" ? p.values.backend : env.backend });
    const dir = typeof p.values["runs-dir"] === "string" ? p.values["runs-dir"] : env.runsDir;
    const results = await validatePending(dir, {
      run: typeof p.values.run === "string" ? p.values.run : undefined,
      onResult: (r) => {
        if (p.values.json) console.log(JSON.stringify({ run: r.run, checkpoint: r.checkpoint, step: r.step, metric: r.metric, value: r.metrics[r.metric] }));
        else console.log(`${r.run}/${r.checkpoint} (step ${r.step}): ${r.metric} ${r.metrics[r.metric]?.toFixed(4)}`);
      },
    });
    if (!p.values.json) console.log(results.length ? `validated ${results.length} checkpoint(s)` : "nothing pending");
    return 0;
  },
};
