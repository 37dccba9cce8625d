/**
 * Runs tfjs-backend-wasm's multi-threaded SIMD build under Node worker threads.
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` but disables it in Node
 * (tensorflow/tfjs#3830): its Emscripten glue hands the pthread workers `blob:` URLs, which Node's
 * `worker_threads` cannot load, and its XNNPACK thread pool is sized at half of `os.cpus().length`.
 * While the backend initialises, this module:
 * - turns the two Blobs the glue makes (the worker script and the module factory) into files in a
 *   temp folder, and points the worker at the factory file with the free names the factory expects
 *   (`require$$N`, `commonjsGlobal`, the tslib helpers) defined in front of it;
 * - reports `2 × threads` logical cores so the pool gets `threads` threads;
 * - sets `WASM_HAS_MULTITHREAD_SUPPORT`.
 * Everything it patches is restored before it returns, and the workers are `unref`'d so that they
 * never keep the process alive.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

const WORKER_LOADS_MAIN =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

class TextBlob {
  readonly text: string;
  constructor(parts: unknown[]) {
    this.text = parts.map(String).join("");
  }
}

/** The prelude the factory needs when evaluated on its own in a worker (names from the CJS bundle). */
function factoryPrelude(bundleSource: string): string {
  const h0 = bundleSource.indexOf("var extendStatics");
  const spread = bundleSource.indexOf("function __spreadArray");
  const h1 = bundleSource.indexOf("/**", spread);
  if (h0 < 0 || spread < 0 || h1 < 0) throw new Error("unexpected tf-backend-wasm.node.js layout (tslib helpers not found)");
  return (
    'var require$$0=require("fs"),require$$1=require("path"),require$$3=require("perf_hooks"),require$$4=require("os");' +
    "var commonjsGlobal=globalThis;\n" +
    bundleSource.slice(h0, h1) +
    "\n"
  );
}

/**
 * Initialises the wasm backend with the threaded SIMD build and `threads` XNNPACK threads.
 * `bundlePath` is tfjs-backend-wasm's `dist/tf-backend-wasm.node.js`. Returns the threads in use.
 */
export async function initThreadedWasm(bundlePath: string, threads: number, setThreadsCount: (n: number) => void): Promise<number> {
  const prelude = factoryPrelude(readFileSync(bundlePath, "utf8"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-wasm-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const g = globalThis as unknown as { Blob: unknown };
  const realBlob = g.Blob;
  const realCreate = URL.createObjectURL;
  const osMut = os as unknown as { cpus: typeof os.cpus };
  const realCpus = os.cpus;
  const mainPath = path.join(dir, "tfjs-backend-wasm-threaded-simd.js");
  let n = 0;
  URL.createObjectURL = ((b: unknown) => {
    if (!(b instanceof TextBlob)) return realCreate(b as Blob);
    let text = b.text;
    if (text.startsWith("var WasmBackendModuleThreadedSimd")) {
      writeFileSync(mainPath, prelude + text);
      return mainPath;
    }
    if (text.includes(WORKER_LOADS_MAIN)) text = text.replace(WORKER_LOADS_MAIN, `importScripts(${JSON.stringify(mainPath)});`);
    const p = path.join(dir, `worker${n++}.js`);
    writeFileSync(p, text);
    return p;
  }) as typeof URL.createObjectURL;
  osMut.cpus = () => {
    const c = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]!);
  };
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  try {
    // The factory Blob is never given a URL (it is posted to the workers as is): write it up front.
    g.Blob = class extends TextBlob {
      constructor(parts: unknown[]) {
        super(parts);
        if (this.text.startsWith("var WasmBackendModuleThreadedSimd")) writeFileSync(mainPath, prelude + this.text);
      }
    };
    setThreadsCount(threads);
    const ok = await tf.setBackend("wasm");
    if (!ok) throw new Error("tf.setBackend('wasm') returned false");
  } finally {
    g.Blob = realBlob;
    URL.createObjectURL = realCreate;
    osMut.cpus = realCpus;
  }
  const mod = (tf.backend() as unknown as { wasm: { PThread?: { unusedWorkers: Array<{ unref?: () => void }>; runningWorkers: Array<{ unref?: () => void }> } } }).wasm;
  for (const w of [...(mod.PThread?.unusedWorkers ?? []), ...(mod.PThread?.runningWorkers ?? [])]) w.unref?.();
  return threads;
}
