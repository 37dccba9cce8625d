/**
 * Checkpoint-and-exit on a signal, for schedulers that warn before they stop a job (Slurm's
 * `--signal=B:USR2@<grace>`, spot-instance notices): once the signal arrives, the run writes a
 * checkpoint at the next optimiser-step boundary (or lets the epoch-end checkpoint stand when the
 * step ends an epoch) and stops with a {@link PreemptedError}; `matchlab train` then exits with
 * {@link REQUEUE_EXIT_CODE}, which the Slurm batch script reads as "requeue me". Resuming from that
 * checkpoint is exact (the same weights as an uninterrupted run). SIGUSR2 by default: Node keeps
 * SIGUSR1 for its inspector.
 */
import path from "node:path";
import { learnerCheckpoint, saveCheckpoint } from "./checkpoint";
import type { Callback, Learner } from "./learner";

/** The exit status of `matchlab train` after a signal-triggered checkpoint: "requeue me, I resume exactly" (EX_TEMPFAIL). */
export const REQUEUE_EXIT_CODE = 75;

/** The signal `matchlab train` checkpoints and exits on. */
export const CHECKPOINT_SIGNAL: NodeJS.Signals = "SIGUSR2";

/** Thrown out of `Learner.fit` once the signal's checkpoint is written; the run is left resumable. */
export class PreemptedError extends Error {
  constructor(
    /** The checkpoint the run resumes from. */
    readonly checkpoint: string,
    readonly signal: NodeJS.Signals,
  ) {
    super(`${signal}: checkpoint ${path.basename(checkpoint)} written; resume the run to continue`);
    this.name = "PreemptedError";
  }
}

/** Options for {@link checkpointOnSignal}. */
export interface CheckpointOnSignalOptions {
  /** The run's checkpoint folder (`step-<n>.ckpt` goes there). Required. */
  dir: string;
  /** The signal to listen for. Defaults to {@link CHECKPOINT_SIGNAL} (SIGUSR2). */
  signal?: NodeJS.Signals;
  /** The config stored in the checkpoint. Defaults to null. */
  config?: unknown;
  /** Called once when the signal arrives and once when the checkpoint is written. Defaults to none. */
  log?: (line: string) => void;
}

/** The callback of {@link checkpointOnSignal}, with its latch and its listener's removal. */
export interface SignalCheckpointCallback extends Callback {
  /** Whether the signal has arrived (or {@link request} was called). */
  readonly requested: boolean;
  /** Acts as if the signal had arrived. */
  request(): void;
  /** Removes the process listener (the run is over). */
  dispose(): void;
}

/**
 * Listens for `signal` from now on (so a signal during data preparation is not lost) and, once it
 * has arrived, at the next step boundary writes `step-<n>.ckpt` and throws {@link PreemptedError}.
 * It runs after every other callback of the batch, so the checkpoint holds the state an
 * uninterrupted run has at that point; a step that ends an epoch waits for the epoch-end checkpoint.
 * It lets the event loop turn once per step (signals are delivered only then).
 */
export function checkpointOnSignal(opts: CheckpointOnSignalOptions): SignalCheckpointCallback {
  const { dir, signal = CHECKPOINT_SIGNAL, config = null, log = () => {} } = opts;
  let requested = false;
  const request = () => {
    if (requested) return;
    requested = true;
    log(JSON.stringify({ event: "signal", signal, note: "checkpoint at the next step boundary, then exit to be requeued" }));
  };
  const listener = () => request();
  process.on(signal, listener);
  const stop = (l: Learner, file: string) => {
    log(JSON.stringify({ event: "preempted", signal, file: path.basename(file), step: l.step, epoch: l.epoch, batch: l.batchInEpoch }));
    throw new PreemptedError(file, signal);
  };
  return {
    order: 1000,
    get requested() {
      return requested;
    },
    request,
    dispose: () => process.off(signal, listener),
    async afterBatch(l) {
      if (!l.stepped) return;
      // The training loop can run for minutes on resolved promises alone; a signal is only
      // delivered when the event loop turns, so let it turn once per optimiser step.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!requested || l.batchInEpoch >= l.batchesPerEpoch) return;
      const file = path.join(dir, `step-${l.step}.ckpt`);
      l.assertFiniteWeights();
      saveCheckpoint(file, learnerCheckpoint(l, config));
      stop(l, file);
    },
    afterEpoch(l) {
      // The checkpoint callback (order 20) has just written the epoch-end `step-<n>.ckpt`.
      if (requested) stop(l, path.join(dir, `step-${l.step}.ckpt`));
    },
  };
}
