// Shared test fixtures: a tiny Shopee-layout dataset written to a temp folder with sharp.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { formatCsv } from "../../src/data/csv";

export interface FixtureRow {
  posting_id: string;
  image: string;
  image_phash?: string;
  title: string;
  label_group: string;
  [extra: string]: string | undefined;
}

/** Writes a w×h PNG of one colour (optionally with alpha) to `file`. */
export async function writePng(file: string, rgb: [number, number, number], w = 8, h = 6, alpha?: number): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const channels = alpha === undefined ? 3 : 4;
  const buf = Buffer.alloc(w * h * channels);
  for (let p = 0; p < w * h; p++) {
    buf[p * channels] = rgb[0];
    buf[p * channels + 1] = rgb[1];
    buf[p * channels + 2] = rgb[2];
    if (alpha !== undefined) buf[p * channels + 3] = alpha;
  }
  await sharp(buf, { raw: { width: w, height: h, channels } }).png().toFile(file);
}

/** Writes a gradient PNG (distinct per `seed`) so images differ. */
export async function writeGradientPng(file: string, seed: number, w = 16, h = 12): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      buf[o] = (x * 16 + seed * 37) & 255;
      buf[o + 1] = (y * 20 + seed * 11) & 255;
      buf[o + 2] = ((x + y) * 8 + seed * 53) & 255;
    }
  }
  await sharp(buf, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** A temp folder with train.csv and train_images/ holding a gradient PNG for each row (unless `noImage`). */
export async function makeDataset(rows: FixtureRow[], opts: { noImage?: Set<string>; columns?: string[] } = {}): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-ds-"));
  const cols = opts.columns ?? ["posting_id", "image", "image_phash", "title", "label_group", ...Object.keys(rows[0] ?? {}).filter((k) => !["posting_id", "image", "image_phash", "title", "label_group"].includes(k))];
  writeFileSync(path.join(dir, "train.csv"), formatCsv(cols, rows.map((r) => cols.map((c) => r[c] ?? ""))));
  mkdirSync(path.join(dir, "train_images"), { recursive: true });
  let i = 0;
  for (const r of rows) {
    i++;
    if (opts.noImage?.has(r.image) || r.image.includes("..") || r.image === "") continue;
    await writeGradientPng(path.join(dir, "train_images", r.image), i);
  }
  return dir;
}

/** n rows in groups of `groupSize`: posting ids p0…, images i0.png…, titles with commas and quotes. */
export function goodRows(n: number, groupSize = 2): FixtureRow[] {
  return Array.from({ length: n }, (_, i) => ({
    posting_id: `p${i}`,
    image: `i${i}.png`,
    image_phash: (0x1234abcd + Math.floor(i / groupSize)).toString(16),
    title: `Item ${i}, "quoted" — ünïcödé ${Math.floor(i / groupSize)}`,
    label_group: `g${Math.floor(i / groupSize)}`,
  }));
}
