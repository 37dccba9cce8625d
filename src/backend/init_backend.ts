/**
 * `initBackend()`: the one place that picks the TensorFlow.js compute backend for notebooks, the CLI
 * and tests.
 *
 * Order (`backend: "auto"`): tensorflow (`@tensorflow/tfjs-node-gpu`, then the real `tfjs-node`) →
 * wasm (with matchlab's training kernels) → cpu. `$MATCHLAB_BACKEND` (via `env.backend`) or the
 * `backend` option pins one; a pinned backend that fails to load is an error, not a fallback.
 *
 * GPU path: `@tensorflow/tfjs-node-gpu@4.22` links libtensorflow 2.x built against CUDA 11.2 and
 * cuDNN 8.1.0 (NVIDIA driver ≥ 450.x), per the tfjs-node README; its install script downloads
 * libtensorflow, so it needs network access at `npm install` time and a Linux x86-64 host. Install it
 * with `npm install @tensorflow/tfjs-node-gpu@4.22.0` (declared as an optional dependency), make the
 * CUDA 11.2 / cuDNN 8.1 libraries visible on `LD_LIBRARY_PATH`, and `initBackend()` picks it; the
 * banner then names the GPU. Without a visible GPU it still runs TensorFlow on the CPU.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { type BackendName, env, parseBackendName } from "../env";
import { registerWasmTrainingKernels } from "./wasm_kernels";
import { initThreadedWasm } from "./wasm_threaded";

/** A backend that actually runs. */
export type ActiveBackend = "tensorflow" | "wasm" | "cpu";

/** What {@link initBackend} picked and why. */
export interface BackendInfo {
  /** The tfjs backend in use. */
  backend: ActiveBackend;
  /** The package providing it, with its version (e.g. `@tensorflow/tfjs-backend-wasm@4.22.0`). */
  pkg: string;
  /** The device: the GPU name when tfjs-node-gpu uses one, else the CPU model. */
  device: string;
  /** Compute threads (XNNPACK threads on wasm; 1 on cpu; the cores TensorFlow may use on tensorflow). */
  threads: number;
  /** For wasm: whether the SIMD build is in use. */
  simd: boolean;
  /** One line per backend that was tried and skipped, in order (empty when the first choice loaded). */
  fallbacks: string[];
  /** The @tensorflow/tfjs version. */
  tfjsVersion: string;
}

/** A module loader (`require`-like) used for the optional tfjs-node packages. */
export type ModuleLoader = (id: string) => unknown;

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Which backend to use. Defaults to `env.backend` (`$MATCHLAB_BACKEND`, else `auto`). */
  backend?: BackendName | string;
  /**
   * wasm threads. Above 1, the threaded SIMD build runs under Node worker threads.
   * Defaults to `$MATCHLAB_WASM_THREADS`, else 1 (see the README's performance section).
   */
  threads?: number;
  /** Loads the optional tfjs-node packages. Defaults to `require` resolved from `env.root`. */
  loader?: ModuleLoader;
  /** Receives the single fallback line. Defaults to `console.warn`. */
  log?: (line: string) => void;
}

/** The tensorflow packages tried, in order, with the package name their package.json must carry. */
const TENSORFLOW_PACKAGES: ReadonlyArray<readonly [id: string, expectedName: string]> = Object.freeze([
  ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node-gpu"],
  ["tfjs-node", "@tensorflow/tfjs-node"],
] as const);

let current: { key: string; info: BackendInfo } | undefined;
let wasmConfigured = false;

function rootRequire(): NodeJS.Require {
  return createRequire(path.join(env.root, "package.json"));
}

/** The first line of an error, without a stack. */
function oneLine(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err?.code === "MODULE_NOT_FOUND" || err?.code === "ERR_MODULE_NOT_FOUND") return "not installed";
  const msg = String(err?.message ?? e);
  return msg.split("\n")[0]!.trim().slice(0, 200);
}

function cpuModel(): string {
  const c = os.cpus();
  const model = c[0]?.model?.trim() || os.arch();
  return `CPU: ${model} (${c.length} logical cores)`;
}

function gpuName(): string | undefined {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
    const names = out.split("\n").map((s) => s.trim()).filter(Boolean);
    return names.length ? names.join(", ") : undefined;
  } catch {
    return undefined;
  }
}

function defaultThreads(): number {
  const v = process.env.MATCHLAB_WASM_THREADS;
  if (v === undefined || v === "") return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`MATCHLAB_WASM_THREADS must be an integer in 1..8, got ${v}`);
  return n;
}

/** Removes the process-wide handlers Emscripten's glue installs (they re-throw and print minified code). */
function withoutEmscriptenHandlers<T>(f: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const events = ["uncaughtException", "unhandledRejection"] as const;
  const listeners = (ev: (typeof events)[number]) => process.listeners(ev as "uncaughtException") as unknown as Listener[];
  const before = new Map(events.map((ev) => [ev, new Set(listeners(ev))]));
  const restore = () => {
    for (const ev of events) {
      for (const l of listeners(ev)) if (!before.get(ev)!.has(l)) process.removeListener(ev, l);
    }
  };
  return f().finally(restore);
}

async function tryTensorflow(load: ModuleLoader): Promise<BackendInfo> {
  const reasons: string[] = [];
  for (const [id, expected] of TENSORFLOW_PACKAGES) {
    let pkg: { name?: string; version?: string };
    try {
      pkg = load(`${id}/package.json`) as { name?: string; version?: string };
    } catch (e) {
      reasons.push(`${id}: ${oneLine(e)}`);
      continue;
    }
    if (pkg.name !== expected) {
      reasons.push(`${id}: resolves to ${pkg.name ?? "an unnamed package"}, not ${expected}`);
      continue;
    }
    try {
      load(id);
      if (!(await tf.setBackend("tensorflow"))) throw new Error("tf.setBackend('tensorflow') returned false");
    } catch (e) {
      reasons.push(`${id}: failed to load (${oneLine(e)})`);
      continue;
    }
    const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
    const device = be.isUsingGpuDevice ? `GPU: ${gpuName() ?? "CUDA device"}` : cpuModel();
    return { backend: "tensorflow", pkg: `${expected}@${pkg.version}`, device, threads: os.cpus().length, simd: false, fallbacks: [], tfjsVersion: tf.version.tfjs };
  }
  throw new Error(reasons.join("; "));
}

async function tryWasm(threads: number, fallbacks: string[]): Promise<BackendInfo> {
  // Locate the .wasm binaries in node_modules (from the project root: src/ has no import.meta).
  const pkgJson = rootRequire().resolve("@tensorflow/tfjs-backend-wasm/package.json");
  const dist = path.join(path.dirname(pkgJson), "dist");
  if (!wasmConfigured && tf.findBackend("wasm") === null) {
    wasm.setWasmPaths(`${dist}${path.sep}`);
    wasmConfigured = true;
  }
  let used = 1;
  await withoutEmscriptenHandlers(async () => {
    if (tf.findBackend("wasm") !== null) {
      if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
      return;
    }
    if (threads > 1) {
      try {
        used = await initThreadedWasm(path.join(dist, "tf-backend-wasm.node.js"), threads, wasm.setThreadsCount);
        return;
      } catch (e) {
        fallbacks.push(`wasm threads: ${oneLine(e)}; using 1 thread`);
        tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      }
    }
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
  });
  registerWasmTrainingKernels();
  used = wasm.getThreadsCount();
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return { backend: "wasm", pkg: `@tensorflow/tfjs-backend-wasm@${wasm.version_wasm}`, device: cpuModel(), threads: used, simd, fallbacks: [], tfjsVersion: tf.version.tfjs };
}

async function tryCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') returned false");
  return { backend: "cpu", pkg: `@tensorflow/tfjs-backend-cpu@${tf.version.tfjs}`, device: cpuModel(), threads: 1, simd: false, fallbacks: [], tfjsVersion: tf.version.tfjs };
}

/**
 * Picks and initialises the compute backend (see the module comment for the order), registers the
 * wasm training kernels, and returns what it picked. Idempotent: a second call with the same request
 * returns the same info without reloading anything. When the first choice is unavailable it logs one
 * line (never a stack trace) and falls back; a backend pinned by name that fails throws.
 * @example
 * const info = await initBackend();            // auto: tensorflow → wasm → cpu
 * await initBackend({ backend: "cpu" });       // pin one (also: MATCHLAB_BACKEND=cpu)
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  // Calls are serialised: backend initialisation patches process-wide state for a moment.
  const run = queue.then(() => initBackendNow(opts));
  queue = run.catch(() => undefined);
  return run;
}

let queue: Promise<unknown> = Promise.resolve();

async function initBackendNow(opts: InitBackendOptions): Promise<BackendInfo> {
  const { backend = env.backend, threads = defaultThreads(), loader, log = (line: string) => console.warn(line) } = opts;
  const name = parseBackendName(String(backend), "backend");
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) throw new Error(`initBackend: threads must be an integer in 1..8, got ${threads}`);
  const key = `${name}/${threads}`;
  if (current && current.key === key && tf.getBackend() === current.info.backend) return { ...current.info, fallbacks: [...current.info.fallbacks] };
  const load: ModuleLoader = loader ?? ((id) => rootRequire()(id));
  const order: ActiveBackend[] = name === "auto" ? ["tensorflow", "wasm", "cpu"] : [name];
  const fallbacks: string[] = [];
  let info: BackendInfo | undefined;
  for (const candidate of order) {
    try {
      if (candidate === "tensorflow") info = await tryTensorflow(load);
      else if (candidate === "wasm") info = await tryWasm(threads, fallbacks);
      else info = await tryCpu();
      break;
    } catch (e) {
      const reason = `${candidate} unavailable (${oneLine(e)})`;
      if (name !== "auto") throw new Error(`backend ${candidate} (asked for by ${opts.backend !== undefined ? "the backend option" : "MATCHLAB_BACKEND"}) failed: ${oneLine(e)}`);
      fallbacks.push(reason);
    }
  }
  if (!info) throw new Error(`no tfjs backend could be initialised: ${fallbacks.join("; ")}`);
  info.fallbacks = fallbacks;
  if (fallbacks.length > 0) log(`matchlab: ${fallbacks.join("; ")} → using ${info.backend}`);
  current = { key, info };
  return { ...info, fallbacks: [...fallbacks] };
}

/** The info of the last successful {@link initBackend} call, if any. */
export function currentBackendInfo(): BackendInfo | undefined {
  return current ? { ...current.info, fallbacks: [...current.info.fallbacks] } : undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/**
 * A one-line description of the backend for notebook banners and CLI headers; `html: true` gives a
 * small HTML block (the fallback reasons as a tooltip-free second line).
 * @example
 * console.log(backendBanner(await initBackend()));
 * // tfjs 4.22.0 · wasm (@tensorflow/tfjs-backend-wasm@4.22.0, SIMD, 1 thread) · CPU: AMD EPYC … (2 logical cores)
 */
export function backendBanner(info: BackendInfo, { html = false }: { html?: boolean } = {}): string {
  const extras = [info.pkg, ...(info.backend === "wasm" ? [info.simd ? "SIMD" : "no SIMD"] : []), `${info.threads} thread${info.threads === 1 ? "" : "s"}`];
  const line = `tfjs ${info.tfjsVersion} · ${info.backend} (${extras.join(", ")}) · ${info.device}`;
  const fb = info.fallbacks.length ? `fallbacks: ${info.fallbacks.join("; ")}` : "";
  if (!html) return fb ? `${line}\n${fb}` : line;
  const fbHtml = fb ? `<div style="color:#777;font-size:90%">${escapeHtml(fb)}</div>` : "";
  return `<div class="matchlab-backend" style="font-family:monospace"><b>${escapeHtml(info.backend)}</b> · ${escapeHtml(line)}${fbHtml}</div>`;
}
