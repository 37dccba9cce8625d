/** Tiny synthetic fixtures for the training tests: in-memory data, and a tiny Shopee-layout dataset on disk. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { resolveConfig, type RunConfig } from "../../src/train/config";
import type { Listing } from "../../src/data/dataset";
import { buildRunModel, type PreparedData } from "../../src/train/model";
import { type RunTask, runTask } from "../../src/train/run";
import { taskDef } from "../../src/train/tasks/index";
import { bagIds, hashedNgrams, tokenIds } from "../../src/models/text";
import { Rng } from "../../src/rng";

/** A small config: 8×8 images, tiny ResNet, n-gram text, concat fusion, ArcFace on the fused branch. */
export function tinyConfig(over: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    name: "tiny",
    seed: 3,
    backend: "cpu",
    data: { image_size: 8, folds: 4, fold: 0, augment: [{ horizontalFlip: { p: 0.5 } }] },
    model: { image: { widths: [4, 8], pooling: "gem" }, text: { dim: 64 }, embedding_dim: 16, dropout: 0.1 },
    heads: { fused: { kind: "arcface", s: 10, m: 0.2 }, text: { kind: "adacos" } },
    loss: { triplet_weight: 0.5 },
    optim: { batch_size: 4, epochs: 3, lr: 0.01 },
    train: { ckpt_period: 2, log_period: 0, warmup_steps: 2, max_grad_norm: 1, gradient_accumulation_steps: 2 },
    eval: { batch_size: 16 },
    ...(over.task === "classify" ? {} : { match: { knn: 10 } }),
    ...over,
  });
}

const FRUIT = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "peach", "pear", "plum", "kiwi", "lime", "fig", "date", "nut", "bean"];

/** In-memory listings: `groups` label groups of `per` rows, titles sharing a group word; `extra.kind` is group % 3 (a classify label). */
export function tinyListings(groups = 12, per = 3): Listing[] {
  return Array.from({ length: groups * per }, (_, i) => {
    const k = Math.floor(i / per);
    return { postingId: `p${i}`, image: "", imagePath: "", title: `${FRUIT[k % FRUIT.length]} ${FRUIT[(k * 7 + i) % FRUIT.length]} item ${i % per}`, labelGroup: `g${k}`, imagePhash: "", extra: { kind: `k${k % 3}` } };
  });
}

/** Synthetic prepared data for {@link tinyListings}: images are noisy group colours (uint8). */
export function tinyData(cfg: RunConfig, groups = 12, per = 3, seed = 1): PreparedData {
  const r = new Rng(seed);
  const n = groups * per;
  const S = cfg.data.image_size;
  const images = new Uint8Array(n * S * S * 3);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / per);
    const colour = [((k * 37) % 100) / 100, ((k * 61) % 100) / 100, ((k * 13) % 100) / 100];
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) images[(i * S * S + p) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, colour[c]! + 0.2 * r.normal())));
  }
  const titles = tinyListings(groups, per).map((l) => l.title);
  const t = cfg.model.text;
  const tokens = t.encoder === "transformer" || t.encoder === "bag";
  const text = t.encoder === "bag" ? bagIds(titles, { vocab: t.vocab, maxLen: t.max_len }) : tokens ? tokenIds(titles, { vocab: t.vocab, maxLen: t.max_len }) : hashedNgrams(titles, { dim: t.dim });
  return { n, ids: Array.from({ length: n }, (_, i) => `p${i}`), imageSize: S, images: cfg.model.image.encoder === "none" ? new Uint8Array(0) : images, text, textDim: tokens ? t.max_len : t.dim };
}

/** A task ready for a Learner on the tiny in-memory data: the config's task splits {@link tinyListings}. */
export function tinyTask(cfg: RunConfig, groups = 12, per = 3): RunTask {
  const split = taskDef(cfg.task).split(tinyListings(groups, per), cfg);
  return runTask(buildRunModel(cfg, tinyData(cfg, groups, per), split));
}

const WORDS = ["red", "green", "blue", "cat", "dog", "sun", "moon", "star", "tree", "fish", "car", "bus", "cup", "hat", "key", "pen"];

/**
 * Writes `dir/train.csv` + `dir/train_images/` with `groups` label groups of `per` 8×8 listings each
 * (at most 16 groups). With `phashColumn`, the CSV carries an empty `image_phash` column.
 */
export async function writeTinyDataset(dir: string, { groups = 12, per = 3, phashColumn = false } = {}): Promise<void> {
  if (groups > WORDS.length) throw new Error(`writeTinyDataset: at most ${WORDS.length} groups, got ${groups}`);
  mkdirSync(path.join(dir, "train_images"), { recursive: true });
  const rows = [phashColumn ? "posting_id,image,image_phash,title,label_group" : "posting_id,image,title,label_group"];
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < per; k++) {
      const img = `g${g}_${k}.png`;
      const px = Buffer.alloc(8 * 8 * 3);
      for (let i = 0; i < 64; i++) {
        px[i * 3] = (g * 53 + k * 7 + i) % 256;
        px[i * 3 + 1] = (g * 97 + i * 3) % 256;
        px[i * 3 + 2] = (g * 31 + k * 11) % 256;
      }
      await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(dir, "train_images", img));
      const title = `${WORDS[g]} ${WORDS[(g + k + 3) % groups]} thing ${k}`;
      rows.push(`p${g}_${k},${img},${phashColumn ? "," : ""}${title},group${g}`);
    }
  }
  writeFileSync(path.join(dir, "train.csv"), `${rows.join("\n")}\n`);
}
