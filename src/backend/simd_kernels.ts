/**
 * Loads matchlab's WebAssembly SIMD kernels (src/backend/simd/kernels.wat) onto tfjs-backend-wasm's
 * own heap: the module imports the backend's memory, so the kernels read and write tensors in place
 * (pointers are the tensors' byte offsets on that heap). One instance per backend, made on first use.
 *
 * The relaxed-SIMD build (fused multiply-add, ~1.5× the plain build's convolution speed) is used where
 * the engine validates it: Node ≥ 22 as is; on Node 20 this module first turns on V8's
 * `--experimental-wasm-relaxed-simd` (it only changes what WebAssembly compiles from then on).
 * `MATCHLAB_WASM_SIMD=plain` forces the plain build and `MATCHLAB_WASM_SIMD=off` turns these kernels off
 * (the composite/JS paths of wasm_kernels.ts run instead). On the threaded build the kernels' work is
 * split over the calling thread and worker threads (simd_pool.ts) when there is enough of it
 * (`MATCHLAB_WASM_SPLIT=always` splits everything: the tests use it to reach the pool with small shapes).
 */
import v8 from "node:v8";
import type * as tf from "@tensorflow/tfjs";
import { type BackendWasm, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { type KernelCall, SimdPool, type WasmMemory, type WasmModule, wasmApi } from "./simd_pool";
import { KERNELS_WASM } from "./simd/kernels_wasm";

/** The exports of kernels.wat (their arguments are documented there; pointers and strides in bytes). */
export type KernelName = "rank_update" | "rank_update_blocked" | "conv_filter_grad" | "dw_filter_grad" | "conv2d" | "maxpool_grad_2x2" | "relu_grad_bias" | "binary" | "clip_grad" | "col_sum2" | "affine" | "gemm" | "gemm_nt" | "pack_a4" | "adam" | "exp";

/** The kernels, bound to one backend's heap. */
export interface SimdKernels {
  /** Whether the relaxed-SIMD (fused multiply-add) build is in use. */
  readonly relaxed: boolean;
  /** Threads `run` spreads calls over (the threaded build's thread count; 1 on the single-threaded build). */
  readonly threads: number;
  /**
   * Threads worth using for `work` units when each thread should get at least `minPerThread` of them:
   * waking a worker costs tens of microseconds, more than small element-wise ops take.
   */
  threadsFor(work: number, minPerThread: number): number;
  /** Runs one kernel on this thread. */
  call(fn: KernelName, ...args: number[]): void;
  /** Runs up to `threads` kernel calls at once (the first on this thread) and returns when all are done. */
  run(calls: readonly { fn: KernelName; args: number[] }[]): void;
}

/** Splits [0, n) into at most `parts` contiguous, near-equal, non-empty ranges. */
export function splitRange(n: number, parts: number): [number, number][] {
  const k = Math.max(1, Math.min(parts, n));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const b0 = Math.floor((i * n) / k);
    const b1 = Math.floor(((i + 1) * n) / k);
    if (b1 > b0) out.push([b0, b1]);
  }
  return out;
}

interface WasmModuleLike {
  wasmMemory?: WasmMemory;
  asm?: { memory?: WasmMemory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

const cache = new WeakMap<object, SimdKernels | null>();
const compiled = new Map<string, WasmModule>();

function bytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/**
 * Node 20's V8 (11.3) has relaxed SIMD behind a flag that Node 22 turns on by default; it only affects
 * how WebAssembly is validated and compiled from here on.
 */
function enableRelaxedSimd(): void {
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // not a V8 that knows the flag: the plain build runs
  }
}

function module(name: keyof typeof KERNELS_WASM): WasmModule | undefined {
  let m = compiled.get(name);
  if (!m) {
    const b = bytes(KERNELS_WASM[name]);
    if (!wasmApi.validate(b)) return undefined;
    m = new wasmApi.Module(b);
    compiled.set(name, m);
  }
  return m;
}

/** The SIMD kernels for this wasm backend, or undefined where they cannot run (or are switched off). */
export function simdKernels(backend: BackendWasm): SimdKernels | undefined {
  const hit = cache.get(backend);
  if (hit !== undefined) return hit ?? undefined;
  const mode = (process.env.MATCHLAB_WASM_SIMD ?? "auto").toLowerCase();
  let made: SimdKernels | null = null;
  if (mode !== "off") {
    const wasm = (backend as unknown as { wasm: WasmModuleLike }).wasm;
    const memory = wasm.wasmMemory ?? wasm.asm?.memory;
    if (memory) {
      const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
      const relaxedName = shared ? "relaxedShared" : "relaxed";
      const plainName = shared ? "simdShared" : "simd";
      if (mode !== "plain" && !module(relaxedName)) enableRelaxedSimd();
      const relaxedModule = mode === "plain" ? undefined : module(relaxedName);
      const m = relaxedModule ?? module(plainName);
      if (m) {
        const exports = new wasmApi.Instance(m, { env: { memory } }).exports;
        const threads = shared ? Math.max(1, getThreadsCount()) : 1;
        const splitAlways = process.env.MATCHLAB_WASM_SPLIT === "always"; // tests: split even tiny work
        const pool = threads > 1 ? new SimdPool(m, memory, exports, threads) : undefined;
        const call = (fn: KernelName, ...args: number[]) => (exports[fn] as (...a: number[]) => void)(...args);
        made = {
          relaxed: relaxedModule !== undefined,
          threads,
          threadsFor: splitAlways ? () => threads : (work, minPerThread) => Math.max(1, Math.min(threads, Math.floor(work / minPerThread))),
          call,
          run: (calls) => {
            if (pool) pool.run(calls as KernelCall[]);
            else for (const c of calls) call(c.fn, ...c.args);
          },
        };
      }
    }
  }
  cache.set(backend, made);
  return made ?? undefined;
}

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: BackendWasm, t: tf.TensorInfo): number {
  return (backend.dataIdMap.get(t.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/** Runs `f` with `bytes` of scratch memory (zeroed) on the wasm heap, freed afterwards. */
export function withScratch<T>(backend: BackendWasm, bytesWanted: number, f: (ptr: number) => T): T {
  const wasm = (backend as unknown as { wasm: WasmModuleLike & { HEAPU8: Uint8Array } }).wasm;
  const ptr = wasm._malloc(Math.max(16, bytesWanted));
  try {
    wasm.HEAPU8.fill(0, ptr, ptr + bytesWanted);
    return f(ptr);
  } finally {
    wasm._free(ptr);
  }
}
