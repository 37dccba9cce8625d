/** The writes the fault tests interrupt, shared by the test (the "before" write) and writer_child.mjs (the killed one). */
import { writeSubmission } from "../../src/data/submission";
import { openEmbeddingCache } from "../../src/embeddings/cache";
import { saveCheckpoint } from "../../src/train/checkpoint";

/** The cache key the fault test uses. */
export const CACHE_KEY = { encoder: "fault-test", pooling: "mean", weightsHash: "0", preprocessing: { size: 1 }, dim: 4 };

/** Writes version `v` of the `mode` file at `target`: a checkpoint, a submission, or an embedding-cache put. */
export async function write(mode: string, target: string, v: number): Promise<void> {
  if (mode === "checkpoint") {
    const meta = { position: { epoch: v, batchInEpoch: 0, step: v }, seed: 1, config: {}, metrics: {}, callbacks: {}, optimizerT: v, weightsSha256: String(v) };
    const data = new Float32Array(1 << 16).fill(v); // 256 KiB: a checkpoint of some size
    saveCheckpoint(target, { meta, tensors: [{ name: "w/x", shape: [data.length], dtype: "float32", data }] } as never);
  } else if (mode === "submission") {
    const ids = Array.from({ length: 1000 }, (_, i) => `p${v}-${i}`);
    writeSubmission(target, ids, ids.map((_, i) => [i]));
  } else if (mode === "cache") {
    const cache = await openEmbeddingCache({ ...CACHE_KEY, cacheDir: target });
    await cache.put([`id${v}`], new Float32Array(4).fill(v));
  } else throw new Error(`writer_child: unknown mode ${mode} (expected checkpoint|submission|cache)`);
}
