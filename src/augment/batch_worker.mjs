// Training-loader worker thread: augments batches from the shared decoded images (src/augment/batch.ts).
// Plain .mjs so it starts the same under tsx, vitest and tslab; it registers tsx to import the .ts sources.
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const batch = await import(pathToFileURL(workerData.batchModule).href);
const augment = await import(pathToFileURL(workerData.augmentModule).href);
const transform = augment.transformFromSpec(workerData.spec);
const images = new Uint8Array(workerData.images);
parentPort.on("message", (msg) => {
  try {
    const out = batch.augmentBatch(images, workerData.decode, msg.task, transform, workerData.size);
    parentPort.postMessage({ id: msg.id, images: out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort.postMessage({ ready: true });
