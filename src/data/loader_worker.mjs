// DataLoader worker thread: decodes and augments batches off the main thread. Plain .mjs so it
// starts the same under tsx, vitest and tslab; it registers tsx to import the .ts sources.
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const task = await import(pathToFileURL(workerData.taskModule).href);
let transform = null;
if (workerData.transform) {
  const mod = await import(pathToFileURL(workerData.transform.module).href);
  if (typeof mod.transformFromSpec !== "function") throw new Error(`${workerData.transform.module} exports no transformFromSpec(spec)`);
  transform = mod.transformFromSpec(workerData.transform.spec);
}
parentPort.on("message", async (msg) => {
  try {
    const out = await task.loadBatchImages(msg.task, transform);
    parentPort.postMessage({ id: msg.id, images: out.images, height: out.height, width: out.width }, [out.images.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort.postMessage({ ready: true });
