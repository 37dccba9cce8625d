/**
 * Runs SIMD kernel calls on several threads over one shared wasm heap (the threaded tfjs-backend-wasm
 * build's memory): the calling thread runs the first call, Node worker threads, each with its own
 * instance of the same module, run the others, and `run` returns when all are done. Workers sleep in
 * `Atomics.wait` between calls, are `unref`'d (they never keep the process alive), and are made on
 * first use.
 *
 * Each worker has a control block of Int32s: [state, export index, argument count, arguments…];
 * state 0 = idle, 1 = call posted, 2 = failed (the message is in the worker's `error` slot).
 */
import { Worker } from "node:worker_threads";

/** A WebAssembly.Memory (the heap the kernels share). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** A compiled WebAssembly.Module. */
export type WasmModule = object;

/**
 * The part of the WebAssembly JS API used here, typed locally: tslab compiles notebooks' imports
 * without the DOM lib, which is where TypeScript declares `WebAssembly`.
 */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: { new (bytes: Uint8Array): WasmModule; exports(m: WasmModule): { name: string; kind: string }[] };
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}

/** The engine's WebAssembly object. */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** One call of a kernel export with integer (pointer / size) arguments. */
export interface KernelCall {
  /** The export's name in kernels.wat. */
  fn: string;
  /** Its arguments (pointers and strides in bytes, sizes). */
  args: number[];
}

const MAX_ARGS = 32;
const IDLE = 0;
const POSTED = 1;
const FAILED = 2;

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, names, error } = workerData;
const ctl = new Int32Array(control);
const err = new Uint8Array(error);
let exports, broken;
try {
  exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (e) {
  broken = e; // every call then fails with this message
}
for (;;) {
  Atomics.wait(ctl, 0, ${IDLE});
  if (Atomics.load(ctl, 0) !== ${POSTED}) continue;
  let state = ${IDLE};
  try {
    if (broken) throw broken;
    exports[names[ctl[1]]](...Array.from(ctl.subarray(3, 3 + ctl[2])));
  } catch (e) {
    const msg = new TextEncoder().encode(String(e && e.message || e)).subarray(0, err.length - 1);
    err.fill(0); err.set(msg);
    state = ${FAILED};
  }
  Atomics.store(ctl, 0, state);
  Atomics.notify(ctl, 0);
}
`;

interface Slot {
  worker: Worker;
  ctl: Int32Array;
  err: Uint8Array;
}

/** A pool of `threads − 1` workers plus the calling thread. */
export class SimdPool {
  private readonly slots: Slot[] = [];
  private readonly names: string[];

  /**
   * @param module the compiled kernels (a build for shared memory)
   * @param memory the shared heap
   * @param local the calling thread's instance exports (runs the first call of each batch)
   * @param threads threads in all, the caller included (≥ 1)
   */
  constructor(
    private readonly module: WasmModule,
    private readonly memory: WasmMemory,
    private readonly local: Record<string, unknown>,
    readonly threads: number,
  ) {
    this.names = wasmApi.Module.exports(module)
      .filter((e) => e.kind === "function")
      .map((e) => e.name);
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (!s) {
      const control = new SharedArrayBuffer(4 * (3 + MAX_ARGS));
      const error = new SharedArrayBuffer(512);
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.module, memory: this.memory, control, names: this.names, error } });
      worker.unref();
      s = { worker, ctl: new Int32Array(control), err: new Uint8Array(error) };
      this.slots[i] = s;
    }
    return s;
  }

  /** Runs the calls (at most `threads`) at once: the first here, the rest on workers; throws if any failed. */
  run(calls: KernelCall[]): void {
    if (calls.length > this.threads) throw new Error(`SimdPool: ${calls.length} calls for ${this.threads} threads`);
    const posted: Slot[] = [];
    for (let i = 1; i < calls.length; i++) {
      const { fn, args } = calls[i]!;
      const index = this.names.indexOf(fn);
      if (index < 0 || args.length > MAX_ARGS) throw new Error(`SimdPool: no kernel ${fn} taking ${args.length} arguments`);
      const s = this.slot(i - 1);
      s.ctl[1] = index;
      s.ctl[2] = args.length;
      s.ctl.set(args, 3);
      Atomics.store(s.ctl, 0, POSTED);
      Atomics.notify(s.ctl, 0);
      posted.push(s);
    }
    let failure: unknown;
    if (calls.length > 0) {
      try {
        (this.local[calls[0]!.fn] as (...a: number[]) => void)(...calls[0]!.args);
      } catch (e) {
        failure = e;
      }
    }
    for (const s of posted) {
      while (Atomics.load(s.ctl, 0) === POSTED) Atomics.wait(s.ctl, 0, POSTED);
      if (Atomics.load(s.ctl, 0) === FAILED) {
        const end = s.err.indexOf(0);
        failure ??= new Error(`SIMD kernel failed on a worker: ${new TextDecoder().decode(s.err.slice(0, end < 0 ? undefined : end))}`);
        Atomics.store(s.ctl, 0, IDLE);
      }
    }
    if (failure) throw failure;
  }
}
