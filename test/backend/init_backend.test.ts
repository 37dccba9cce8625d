import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import { backendBanner, currentBackendInfo, initBackend } from "../../src/backend/index";
import { env } from "../../src/env";

// initBackend's fallback chain with injected module loaders: tfjs-node(-gpu) cannot install on this
// machine, so "installed but broken" and "alias of plain tfjs" are simulated at the loader, and the
// real wasm / cpu backends are what it falls back to.

function notInstalled(id: string): never {
  const e = new Error(`Cannot find module '${id}'`) as Error & { code: string };
  e.code = "MODULE_NOT_FOUND";
  throw e;
}

const savedBackend = env.backend;
afterEach(() => {
  env.backend = savedBackend;
});

describe("initBackend", () => {
  it("falls back from a tfjs-node-gpu that fails to load with one line and no stack trace", async () => {
    const lines: string[] = [];
    const loader = (id: string): unknown => {
      if (id === "@tensorflow/tfjs-node-gpu/package.json") return { name: "@tensorflow/tfjs-node-gpu", version: "4.22.0" };
      if (id === "@tensorflow/tfjs-node-gpu") {
        throw new Error("libcudart.so.11.0: cannot open shared object file: No such file or directory\n    at Module._extensions..node (node:internal/modules/cjs/loader:1454:18)");
      }
      // the npm alias `tfjs-node` pointing at plain @tensorflow/tfjs must be recognised and skipped
      if (id === "tfjs-node/package.json") return { name: "@tensorflow/tfjs", version: "4.22.0" };
      return notInstalled(id);
    };
    const info = await initBackend({ backend: "auto", loader, log: (l) => lines.push(l) });
    expect(info.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\n");
    expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
    expect(lines[0]).toContain("libcudart.so.11.0");
    expect(lines[0]).toContain("tfjs-node: resolves to @tensorflow/tfjs, not @tensorflow/tfjs-node");
    expect(lines[0]).toMatch(/→ using wasm$/);
    expect(info.fallbacks).toHaveLength(1);
    expect(info.simd).toBe(true);
    expect(info.threads).toBe(1);
    expect(info.device).toMatch(/^CPU: /);
    expect(info.pkg).toBe("@tensorflow/tfjs-backend-wasm@4.22.0");
  });

  it("is idempotent: a second call returns the same info and logs nothing", async () => {
    const lines: string[] = [];
    const loader = (id: string): unknown => notInstalled(id);
    const a = await initBackend({ backend: "auto", loader, log: (l) => lines.push(l) });
    const b = await initBackend({ backend: "auto", loader, log: (l) => lines.push(l) });
    expect(b).toEqual(a);
    expect(currentBackendInfo()).toEqual(a);
    expect(lines.length).toBeLessThanOrEqual(1);
  });

  it("serialises concurrent calls", async () => {
    const loader = (id: string): unknown => notInstalled(id);
    const [a, b] = await Promise.all([initBackend({ backend: "wasm", loader, log: () => {} }), initBackend({ backend: "wasm", loader, log: () => {} })]);
    expect(a).toEqual(b);
    expect(a.backend).toBe("wasm");
  });

  it("honours MATCHLAB_BACKEND (env.backend) and the backend option", async () => {
    env.backend = "cpu";
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    expect(info.backend).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(info.fallbacks).toEqual([]);
    expect(lines).toEqual([]);
    const w = await initBackend({ backend: "wasm", log: (l) => lines.push(l) });
    expect(w.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
  });

  it("a pinned backend that cannot load is an error naming why, not a silent fallback", async () => {
    const loader = (id: string): unknown => notInstalled(id);
    await expect(initBackend({ backend: "tensorflow", loader })).rejects.toThrow(/backend tensorflow .*failed: @tensorflow\/tfjs-node-gpu: not installed; tfjs-node: not installed/);
  });

  it("rejects an unknown backend name, listing the valid ones", async () => {
    await expect(initBackend({ backend: "gpu" })).rejects.toThrow("unknown backend: gpu (expected auto|tensorflow|wasm|cpu)");
    await expect(initBackend({ backend: "wasm", threads: 0 })).rejects.toThrow(/threads must be an integer in 1\.\.8/);
  });

  it("tfjs-node-gpu that loads and sees a GPU is picked (loader registers a stand-in tensorflow backend)", async () => {
    // The stand-in is the cpu backend registered under the name "tensorflow" with the property
    // tfjs-node's NodeJSKernelBackend exposes; it exercises the selection path, not TensorFlow itself.
    const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu");
    const loader = (id: string): unknown => {
      if (id === "@tensorflow/tfjs-node-gpu/package.json") return { name: "@tensorflow/tfjs-node-gpu", version: "4.22.0" };
      if (id === "@tensorflow/tfjs-node-gpu") {
        if (!tf.findBackend("tensorflow")) {
          tf.registerBackend("tensorflow", () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: true }), 3);
          for (const k of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...k, backendName: "tensorflow" });
        }
        return {};
      }
      return notInstalled(id);
    };
    const lines: string[] = [];
    const info = await initBackend({ backend: "auto", loader, log: (l) => lines.push(l) });
    expect(info.backend).toBe("tensorflow");
    expect(info.pkg).toBe("@tensorflow/tfjs-node-gpu@4.22.0");
    expect(info.device).toMatch(/^GPU: /);
    expect(lines).toEqual([]);
    expect(tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0])).toBe(5);
    await tf.setBackend("wasm");
  });
});

describe("backendBanner", () => {
  const info = {
    backend: "wasm" as const,
    pkg: "@tensorflow/tfjs-backend-wasm@4.22.0",
    device: "CPU: Test <CPU> (2 logical cores)",
    threads: 2,
    simd: true,
    fallbacks: ["tensorflow unavailable (@tensorflow/tfjs-node-gpu: not installed)"],
    tfjsVersion: "4.22.0",
  };
  it("renders plain text with the backend, package, threads, device and fallbacks", () => {
    expect(backendBanner(info)).toBe(
      "tfjs 4.22.0 · wasm (@tensorflow/tfjs-backend-wasm@4.22.0, SIMD, 2 threads) · CPU: Test <CPU> (2 logical cores)\nfallbacks: tensorflow unavailable (@tensorflow/tfjs-node-gpu: not installed)",
    );
    expect(backendBanner({ ...info, fallbacks: [], threads: 1 })).not.toContain("\n");
  });
  it("renders escaped HTML", () => {
    const html = backendBanner(info, { html: true });
    expect(html).toContain("<b>wasm</b>");
    expect(html).toContain("Test &lt;CPU&gt;");
    expect(html).not.toContain("<CPU>");
  });
});
