/**
 * A worker thread that runs tasks and answers each by id: post `{id, task}`, receive `{id, …result}`
 * or `{id, error}`. The thread is unref'd while idle (it never keeps the process alive on its own);
 * a crash fails every pending task with the reason. The DataLoader and the training loader use it.
 */
import { Worker } from "node:worker_threads";

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

/** One worker thread running `script` with `workerData`; the script posts `{ready: true}` once loaded. */
export class TaskWorker<T, R> {
  /** Resolves once the script has loaded. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending<R>>();
  private nextId = 0;
  private failed: Error | null = null;

  /** `what` names the worker in errors (e.g. "DataLoader worker"). */
  constructor(script: string, workerData: unknown, private readonly what: string) {
    this.worker = new Worker(script, { workerData });
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      const onReady = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        this.worker.off("message", onReady);
        resolve();
      };
      this.worker.on("message", onReady);
      this.worker.once("error", reject);
    });
    this.worker.on("message", (m: { id?: number; error?: string } & R) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", (code) => {
      if (this.pending.size) this.fail(new Error(`exited (code ${code}) with ${this.pending.size} tasks pending`));
    });
  }

  private fail(err: Error): void {
    this.failed = err;
    for (const p of this.pending.values()) p.reject(new Error(`${this.what} failed: ${err.message}`));
    this.pending.clear();
  }

  /** Runs one task; resolves with the worker's answer. */
  run(task: T): Promise<R> {
    if (this.failed) return Promise.reject(new Error(`${this.what} failed: ${this.failed.message}`));
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, task });
    });
  }

  /** Stops the thread (held referenced meanwhile, so awaiting this keeps the process alive). */
  terminate(): Promise<number> {
    this.worker.ref();
    return this.worker.terminate();
  }
}
