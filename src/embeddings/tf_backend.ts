/** Makes sure a tfjs backend is ready before a tfjs encoder runs (through src/backend's initBackend). */
import * as tf from "@tensorflow/tfjs";
import { currentBackendInfo, initBackend } from "../backend/index";

/** Keeps the backend {@link initBackend} already set up, else runs `initBackend()` (env.backend; auto → tensorflow → wasm → cpu). Returns its name. */
export async function readyEmbeddingBackend(): Promise<string> {
  const cur = currentBackendInfo();
  if (cur && tf.getBackend() === cur.backend) return cur.backend;
  return (await initBackend()).backend;
}
