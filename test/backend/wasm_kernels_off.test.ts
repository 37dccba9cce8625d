import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect } from "vitest";
import { initBackend } from "../../src/backend/index";
import { simdKernels } from "../../src/backend/simd_kernels";
import { describeWasmKernels } from "./conv_suite";

// With matchlab's SIMD kernels switched off (MATCHLAB_WASM_SIMD=off) the composite and loop kernels
// (XNNPACK matmuls and convs, JS loops) run instead; they must match cpu just the same.
beforeAll(async () => {
  process.env.MATCHLAB_WASM_SIMD = "off";
  expect((await initBackend({ backend: "wasm", log: () => {} })).backend).toBe("wasm");
  expect(simdKernels(tf.backend() as never)).toBeUndefined();
});

describeWasmKernels("SIMD kernels off");
