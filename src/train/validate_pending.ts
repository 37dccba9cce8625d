/**
 * Validates checkpoints that no run has validated yet (the VQA notes' "validate snapshots"): for
 * every run, each checkpoint file whose weights hash is not in validated.json is loaded into the
 * run's model and scored; results go to validation.csv, and the hash is recorded.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { formatCsv, parseCsv } from "../data/csv";
import { listCheckpoints, loadCheckpoint, restoreWeights } from "./checkpoint";
import { writeFileAtomic } from "../fs_atomic";
import { listRuns, runPaths, writeJsonAtomic } from "./registry";
import { prepareTask, type RunTask, runConfig } from "./run";

/** One validated checkpoint. */
export interface PendingResult {
  run: string;
  checkpoint: string;
  step: number;
  epoch: number;
  /** The task's primary metric's name (a key of `metrics`). */
  metric: string;
  metrics: Record<string, number>;
}

/** Options for {@link validatePending}. */
export interface ValidatePendingOptions {
  /** Only this run. Defaults to every run. */
  run?: string;
  /** Called per result. Defaults to none. */
  onResult?: (r: PendingResult) => void;
}

/** Finds and validates every not-yet-validated checkpoint under `runsDir`. */
export async function validatePending(runsDir: string, opts: ValidatePendingOptions = {}): Promise<PendingResult[]> {
  const out: PendingResult[] = [];
  const runs = listRuns(runsDir).filter((r) => !opts.run || r.id === opts.run);
  if (opts.run && runs.length === 0) throw new Error(`run ${opts.run} not found in ${runsDir}`);
  for (const { id } of runs) {
    const p = runPaths(runsDir, id);
    const done: Record<string, string> = existsSync(p.validated) ? JSON.parse(readFileSync(p.validated, "utf8")) : {};
    const files = [...listCheckpoints(p.checkpoints).map((c) => c.file), path.join(p.checkpoints, "best.ckpt")].filter((f) => existsSync(f));
    let task: RunTask | null = null;
    for (const file of files) {
      const rec = loadCheckpoint(file);
      if (done[rec.meta.weightsSha256]) continue;
      task ??= await prepareTask(runConfig(runsDir, id), { progressBars: false });
      restoreWeights(task.stateVariables(), rec, file);
      const metrics = await task.validate();
      const r: PendingResult = { run: id, checkpoint: path.basename(file), step: rec.meta.position.step, epoch: rec.meta.position.epoch, metric: task.def.metric.name, metrics };
      out.push(r);
      opts.onResult?.(r);
      const cols = ["checkpoint", "step", "epoch", "weights_sha256", ...Object.keys(metrics)];
      const prev = existsSync(p.validation) ? parseCsv(readFileSync(p.validation, "utf8"), p.validation).rows : [];
      const row = [r.checkpoint, r.step, r.epoch, rec.meta.weightsSha256, ...Object.values(metrics)];
      writeFileAtomic(p.validation, formatCsv(cols, [...prev, row.map(String)]));
      done[rec.meta.weightsSha256] = r.checkpoint;
      writeJsonAtomic(p.validated, done);
    }
    task?.dispose();
  }
  return out;
}
