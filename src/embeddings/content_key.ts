/**
 * What the embedding cache keys rows on: the content of each item, never a posting id. An image
 * path is keyed on the SHA-256 of the file's bytes, a decoded image on its size and pixels, a
 * title on its text. The encoder, its weights, pooling and preprocessing key the cache folder and
 * manifest, so a (folder, content key) pair names one vector: two datasets that reuse posting ids
 * with other images or titles can never be served each other's rows, and identical content shares
 * one row.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { ImageDecodeError } from "../data/image";
import type { EmbedItem, Modality } from "./encoder";

const fileMemo = new Map<string, string>();

/** SHA-256 (hex) of a file's bytes, memoised per path, size and mtime. */
async function hashFile(file: string): Promise<string> {
  let st: Awaited<ReturnType<typeof stat>>;
  let bytes: Buffer;
  try {
    st = await stat(file);
    bytes = await readFile(file);
  } catch (e) {
    throw new ImageDecodeError(file, "missing-image", `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; expected an image file to embed)`);
  }
  const memo = `${file}\0${st.size}\0${st.mtimeMs}`;
  let h = fileMemo.get(memo);
  if (!h) {
    h = createHash("sha256").update(bytes).digest("hex");
    fileMemo.set(memo, h);
  }
  return h;
}

/**
 * The cache key of one item for an encoder of `modality`: `img:<sha256 of the file or pixels>` or
 * `txt:<sha256 of the text>`.
 * @example await contentKey("train_images/a.png", "image") // "img:9f2c…"
 */
export async function contentKey(item: EmbedItem, modality: Modality): Promise<string> {
  if (typeof item === "string") {
    if (modality === "image") return `img:${await hashFile(item)}`;
    return `txt:${createHash("sha256").update(item, "utf8").digest("hex")}`;
  }
  const h = createHash("sha256").update(`${item.height}x${item.width}x${item.channels}\0`);
  h.update(new Uint8Array(item.data.buffer, item.data.byteOffset, item.data.byteLength));
  return `px:${h.digest("hex")}`;
}

/** The content keys of many items, a few files read at a time. */
export async function contentKeys(items: readonly EmbedItem[], modality: Modality, concurrency = 16): Promise<string[]> {
  const out = new Array<string>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await contentKey(items[i]!, modality);
      }
    }),
  );
  return out;
}
