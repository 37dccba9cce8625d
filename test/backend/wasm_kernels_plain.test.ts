import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect } from "vitest";
import { initBackend } from "../../src/backend/index";
import { simdKernels } from "../../src/backend/simd_kernels";
import { describeWasmKernels } from "./conv_suite";

// The same conv suite on the plain-SIMD build of matchlab's kernels (no relaxed multiply-add), which
// engines without relaxed SIMD run. Its own file: the kernels load once per backend.
beforeAll(async () => {
  process.env.MATCHLAB_WASM_SIMD = "plain";
  expect((await initBackend({ backend: "wasm", log: () => {} })).backend).toBe("wasm");
  expect(simdKernels(tf.backend() as never)?.relaxed).toBe(false);
});

describeWasmKernels("plain SIMD build");
