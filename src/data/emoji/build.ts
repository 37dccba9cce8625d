/**
 * The emoji-match builder: plans listings, rasterises each chosen icon once with sharp, computes
 * its pHash, and writes a Shopee-style `train.csv` + `train_images/` + `manifest.json`. The build
 * goes to a temporary sibling folder that is renamed into place only when complete, so an
 * interrupted or failed build leaves the previous dataset (or nothing), never half of one.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp, { type OutputInfo } from "sharp";
import { env } from "../../env";
import { processAlive, testPausePoint } from "../../fs_atomic";
import { progress } from "../../progress";
import { formatCsv } from "../csv";
import { phash } from "../phash";
import { type EmojiImageRef, type EmojiJoinStats, joinEmojiImages } from "./join";
import { planEmojiListings } from "./plan";
import { EMOJI_ART_SETS, type IconifySource, iconifyVersion, iconSvg, loadIconifySources } from "./sources";
import { checkEmojiLocales, emojiLocales, loadEmojiText } from "./text";

/** The columns of emoji-match's train.csv: Shopee's five, then the extras. */
export const EMOJI_MATCH_COLUMNS: readonly string[] = Object.freeze([
  "posting_id",
  "image",
  "image_phash",
  "title",
  "label_group",
  "hexcode",
  "emoji",
  "art_set",
  "license",
  "locale",
  "group",
  "subgroup",
  "tags",
  "label",
]);

/** What goes behind the drawing: opaque white (RGB PNGs, like photos) or transparent (RGBA PNGs). */
export type EmojiBackground = "white" | "transparent";

/** The manifest's marker: a folder holding a manifest.json with this builder may be replaced with `force`. */
export const EMOJI_MATCH_BUILDER = "matchlab emoji-match";
/** Bump when the output for the same options changes, so old builds are not mistaken for current ones. */
export const EMOJI_MATCH_FORMAT = 1;

/** Options for {@link buildEmojiMatch}. */
export interface EmojiMatchOptions {
  /** The dataset folder to write. Defaults to `<env.dataDir>/emoji-match`. */
  out?: string;
  /** Build the small sample (300 groups, whole skin-tone families) instead of the full dataset. Defaults to false. */
  sample?: boolean;
  /** The most label groups. Defaults to 300 with `sample`, else every emoji with ≥ 2 distinct drawings. */
  groups?: number;
  /** The seed for every choice. Defaults to `env.seed`. */
  seed?: number;
  /** Image side in pixels. Defaults to 128. */
  size?: number;
  /** Title locales (emojibase-data folder names). Defaults to every locale emojibase-data ships. */
  locales?: readonly string[];
  /** Art sets to load from node_modules when `sources` is not given. Defaults to all nine ({@link EMOJI_ART_SETS}). */
  sets?: readonly string[];
  /** The art sets themselves (for tests or other icon sets). Defaults to `loadIconifySources(sets)`. */
  sources?: readonly IconifySource[];
  /** Background behind the drawing. Defaults to "white". */
  background?: EmojiBackground;
  /** Replace an existing emoji-match build at `out` even when it was built with other options (a build by an older builder format is always replaced). Defaults to false. */
  force?: boolean;
  /** Images rasterised at once. Defaults to `os.availableParallelism()`. */
  concurrency?: number;
  /** Aborting it stops the build; the temporary folder is removed and `out` is untouched. Defaults to none. */
  signal?: AbortSignal;
  /** Called after each image file is written (done, total); an exception thrown here aborts the build cleanly. Defaults to none. */
  onImageWritten?: (done: number, total: number) => void;
  /** Show progress bars. Defaults to `env.progress`. */
  progress?: boolean;
}

/** Summary statistics of the built dataset (also in manifest.json). */
export interface EmojiMatchCounts {
  rows: number;
  groups: number;
  images: number;
  groupSize: { min: number; max: number; mean: number; median: number; histogram: Record<string, number> };
  /** Groups whose emoji is a skin-tone variant (hard negatives of their base emoji). */
  skinToneGroups: number;
  /** Rows whose image is also used by another row of the same group. */
  rowsSharingImage: number;
  /** Image files that rows of two different groups use (identical renders from different art sets); 0 is normal. */
  imagesSharedAcrossGroups: number;
  rowsPerLocale: Record<string, number>;
  rowsPerArtSet: Record<string, number>;
}

/** What manifest.json holds. */
export interface EmojiMatchManifest {
  builder: string;
  format: number;
  options: { seed: number; sample: boolean; groups: number | null; size: number; background: EmojiBackground; locales: string[]; sets: string[] };
  counts: EmojiMatchCounts;
  sources: Array<{
    set: string;
    name: string;
    version: string;
    license: { title: string; spdx?: string; url?: string };
    author?: { name: string; url?: string };
    joinedBy: string;
    imagesAvailable: number;
    imagesUsed: number;
    rows: number;
  }>;
  text: { package: string; version: string; locales: string[] };
  tools: Record<string, string>;
  files: Record<string, string>;
}

/** The result of {@link buildEmojiMatch}. */
export interface EmojiMatchResult {
  /** The dataset folder (absolute). */
  out: string;
  /** True when `out` already held a build with the same options and nothing was done. */
  upToDate: boolean;
  manifest: EmojiMatchManifest;
  /** Wall time in milliseconds. */
  ms: number;
}

function readManifest(dir: string): EmojiMatchManifest | null {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    return m && m.builder === EMOJI_MATCH_BUILDER ? (m as EmojiMatchManifest) : null;
  } catch {
    return null;
  }
}

/**
 * Removes temporary folders that builds killed without cleanup (their process gone) left beside `out`;
 * a build killed inside its swap (old build moved aside, new one not yet in place) gets the old build back.
 */
function removeStalePartials(parent: string, base: string): void {
  const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(partial|old)-(\\d+)-`);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m || processAlive(Number(m[2]))) continue;
    if (m[1] === "old" && !existsSync(path.join(parent, base))) renameSync(path.join(parent, name), path.join(parent, base));
    else rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The options that differ, as `seed 0 → 3; size 128 → 64` (long lists shortened). */
function optionsDiff(old: Record<string, unknown>, now: Record<string, unknown>): string {
  const show = (v: unknown) => {
    const t = Array.isArray(v) ? v.join(",") : String(v);
    return t.length > 60 ? `${t.slice(0, 57)}…` : t;
  };
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])];
  return keys
    .filter((k) => JSON.stringify(old[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k} ${show(old[k])} → ${show(now[k])}`)
    .join("; ");
}

interface RenderedImage {
  file: string;
  phash: string;
}

/** Rasterises one icon to PNG; errors name the art set, the icon and the emoji. */
async function renderIcon(ref: EmojiImageRef, label: string, size: number, background: EmojiBackground): Promise<{ png: Buffer; hash: string }> {
  const where = `art set ${ref.set}, icon "${ref.icon}" (emoji ${ref.hexcode} "${label}")`;
  if (typeof ref.resolved.body !== "string" || ref.resolved.body.trim() === "") throw new Error(`${where}: the icon has no SVG body`);
  const svg = iconSvg(ref.resolved, size);
  let rgba: Buffer;
  let info: OutputInfo;
  try {
    ({ data: rgba, info } = await sharp(Buffer.from(svg), { failOn: "error" })
      .resize(size, size, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).trim().split("\n").slice(0, 3).join(" ");
    throw new Error(`${where}: corrupt SVG, sharp could not rasterise it: ${msg}`);
  }
  if (info.channels !== 4 || info.width !== size || info.height !== size) {
    throw new Error(`${where}: rasterised to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x4`);
  }
  let opaque = false;
  for (let i = 3; i < rgba.length; i += 4) {
    if (rgba[i]! > 0) {
      opaque = true;
      break;
    }
  }
  if (!opaque) throw new Error(`${where}: corrupt SVG, it rasterises to a blank (fully transparent) image`);
  let pixels: Buffer;
  let channels: 3 | 4;
  if (background === "white") {
    // Composite over white in integer arithmetic, so the result does not depend on the platform.
    pixels = Buffer.alloc(size * size * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      const a = rgba[i + 3]!;
      for (let c = 0; c < 3; c++) pixels[o + c] = Math.round((rgba[i + c]! * a + 255 * (255 - a)) / 255);
    }
    channels = 3;
  } else {
    pixels = rgba;
    channels = 4;
  }
  const hash = phash(pixels, size, size, { channels });
  const png = await sharp(pixels, { raw: { width: size, height: size, channels } })
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer();
  return { png, hash };
}

function summarise(values: number[]): { min: number; max: number; mean: number; median: number; histogram: Record<string, number> } {
  const s = [...values].sort((a, b) => a - b);
  const histogram: Record<string, number> = {};
  for (const v of s) histogram[v] = (histogram[v] ?? 0) + 1;
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, max: s[s.length - 1]!, mean: Math.round((1000 * s.reduce((a, b) => a + b, 0)) / s.length) / 1000, median, histogram };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/**
 * Builds the emoji-match dataset: `out/train.csv`, `out/train_images/*.png`, `out/manifest.json`.
 * When `out` already holds a build with the same options it returns at once (`upToDate`).
 * @example
 * await buildEmojiMatch({ sample: true, out: "data/emoji-match-sample" });
 */
export async function buildEmojiMatch(opts: EmojiMatchOptions = {}): Promise<EmojiMatchResult> {
  const t0 = Date.now();
  const {
    sample = false,
    seed = env.seed,
    size = 128,
    sets = EMOJI_ART_SETS,
    background = "white",
    force = false,
    concurrency = os.availableParallelism(),
    signal,
    onImageWritten,
  } = opts;
  const out = path.resolve(opts.out ?? path.join(env.dataDir, "emoji-match"));
  const showProgress = opts.progress ?? env.progress;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new Error(`size must be an integer from 8 to 1024 pixels, got ${size}`);
  if (opts.groups !== undefined && (!Number.isInteger(opts.groups) || opts.groups < 1)) throw new Error(`groups must be a positive integer, got ${opts.groups}`);
  if (background !== "white" && background !== "transparent") throw new Error(`unknown background: ${String(background)} (expected white|transparent)`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  const locales = [...(opts.locales ?? emojiLocales())];
  checkEmojiLocales(locales); // before any slow work
  const setIds = opts.sources ? opts.sources.map((s) => `${s.prefix}@${s.version ?? ""}`) : sets.map((p) => `${p}@${iconifyVersion(p)}`);
  if (setIds.length === 0) throw new Error("no art sets given");
  const options: EmojiMatchManifest["options"] = {
    seed,
    sample,
    groups: opts.groups ?? null,
    size,
    background,
    locales,
    sets: setIds,
  };

  removeStalePartials(path.dirname(out), path.basename(out)); // first: a build killed mid-swap gets its old build back
  // An existing folder: leave a current build alone, refuse to clobber anything else.
  if (existsSync(out)) {
    const old = readManifest(out);
    if (!old) {
      throw new Error(`${out} exists and is not an emoji-match build (no manifest.json from ${EMOJI_MATCH_BUILDER}); refusing to replace it: choose another --out or remove it yourself`);
    }
    // A build by an older version of this builder is simply outdated: it is rebuilt without asking.
    if (old.format === EMOJI_MATCH_FORMAT) {
      const diff = optionsDiff(old.options, options);
      if (!force && diff === "") return { out, upToDate: true, manifest: old, ms: Date.now() - t0 };
      if (!force) throw new Error(`${out} holds an emoji-match build made with other options (${diff}); pass --force to replace it`);
    }
  }

  const text = loadEmojiText(locales);
  const sources = opts.sources ?? loadIconifySources(sets);
  const index = joinEmojiImages(sources, text);
  const rows = planEmojiListings(text, index.byHexcode, { seed, sample, groups: opts.groups, locales });
  const labels = new Map(text.emojis.map((e) => [e.hexcode, e.label]));

  // The distinct images the rows use, in first-use order.
  const refKey = (r: EmojiImageRef) => `${r.set}/${r.icon}`;
  const todo = new Map<string, EmojiImageRef>();
  for (const r of rows) if (!todo.has(refKey(r.image))) todo.set(refKey(r.image), r.image);
  const refs = [...todo.values()];

  const parent = path.dirname(out);
  const base = path.basename(out);
  mkdirSync(parent, { recursive: true });
  removeStalePartials(parent, base);
  const tmp = path.join(parent, `.${base}.partial-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(path.join(tmp, "train_images"), { recursive: true });
  try {
    // Render: a small pool of async workers; sharp runs each on libuv's thread pool.
    const rendered = new Map<string, RenderedImage>();
    const written = new Set<string>();
    const bar = progress({ label: sample ? "emoji-match sample: images" : "emoji-match: images", total: refs.length, renderer: showProgress ? undefined : null });
    let next = 0;
    let done = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < refs.length) {
        if (signal?.aborted) throw new Error("build interrupted");
        const ref = refs[next++]!;
        const { png, hash } = await renderIcon(ref, labels.get(ref.hexcode) ?? "", size, background);
        const file = `${createHash("md5").update(png).digest("hex")}.png`;
        if (!written.has(file)) {
          written.add(file);
          writeFileSync(path.join(tmp, "train_images", file), png);
        }
        rendered.set(refKey(ref), { file, phash: hash });
        done++;
        bar.tick();
        onImageWritten?.(done, refs.length);
      }
    };
    const workers = Array.from({ length: Math.min(concurrency, Math.max(1, refs.length)) }, () =>
      worker().catch((err) => {
        failed = true;
        throw err;
      }),
    );
    const results = await Promise.allSettled(workers);
    const bad = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (bad) {
      bar.finish("failed");
      throw bad.reason;
    }
    bar.finish();
    if (signal?.aborted) throw new Error("build interrupted");

    const licenses = new Map(sources.map((s) => [s.prefix, s.license.spdx ?? s.license.title]));
    const csv = formatCsv(
      EMOJI_MATCH_COLUMNS,
      rows.map((r) => {
        const img = rendered.get(refKey(r.image))!;
        return [
          r.postingId,
          img.file,
          img.phash,
          r.title,
          r.labelGroup,
          r.emoji.hexcode,
          r.emoji.emoji,
          r.image.set,
          licenses.get(r.image.set) ?? "",
          r.locale,
          r.emoji.group,
          r.emoji.subgroup,
          r.tags.join("|"),
          r.emoji.label,
        ];
      }),
    );
    writeFileSync(path.join(tmp, "train.csv"), csv);

    const groupRows = new Map<number, typeof rows>();
    for (const r of rows) {
      let g = groupRows.get(r.labelGroup);
      if (!g) {
        g = [];
        groupRows.set(r.labelGroup, g);
      }
      g.push(r);
    }
    let rowsSharingImage = 0;
    let skinToneGroups = 0;
    for (const g of groupRows.values()) {
      const n = new Map<string, number>();
      for (const r of g) n.set(rendered.get(refKey(r.image))!.file, (n.get(rendered.get(refKey(r.image))!.file) ?? 0) + 1);
      for (const c of n.values()) if (c > 1) rowsSharingImage += c;
      if (g[0]!.emoji.tones.length > 0) skinToneGroups++;
    }
    const groupsOfFile = new Map<string, Set<number>>();
    for (const r of rows) {
      const f = rendered.get(refKey(r.image))!.file;
      let g = groupsOfFile.get(f);
      if (!g) {
        g = new Set();
        groupsOfFile.set(f, g);
      }
      g.add(r.labelGroup);
    }
    const imagesSharedAcrossGroups = [...groupsOfFile.values()].filter((g) => g.size > 1).length;
    const available = new Map<string, number>(index.stats.map((s: EmojiJoinStats) => [s.set, s.images]));
    const joined = new Map<string, string>(index.stats.map((s) => [s.set, s.joinedBy]));
    const manifest: EmojiMatchManifest = {
      builder: EMOJI_MATCH_BUILDER,
      format: EMOJI_MATCH_FORMAT,
      options,
      counts: {
        rows: rows.length,
        groups: groupRows.size,
        images: written.size,
        groupSize: summarise([...groupRows.values()].map((g) => g.length)),
        skinToneGroups,
        rowsSharingImage,
        imagesSharedAcrossGroups,
        rowsPerLocale: countBy(rows, (r) => r.locale),
        rowsPerArtSet: countBy(rows, (r) => r.image.set),
      },
      sources: sources.map((s) => ({
        set: s.prefix,
        name: s.name,
        version: s.version ?? "",
        license: s.license,
        ...(s.author ? { author: s.author } : {}),
        joinedBy: joined.get(s.prefix) ?? "",
        imagesAvailable: available.get(s.prefix) ?? 0,
        imagesUsed: refs.filter((r) => r.set === s.prefix).length,
        rows: rows.filter((r) => r.image.set === s.prefix).length,
      })),
      text: { package: "emojibase-data", version: text.version, locales },
      tools: { sharp: sharp.versions.sharp ?? "", libvips: sharp.versions.vips, librsvg: sharp.versions.rsvg ?? "" },
      files: { "train.csv": sha256(csv) },
    };
    writeFileSync(path.join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    if (signal?.aborted) throw new Error("build interrupted");

    // Swap into place: the old build moves aside, the new one takes its name, the old one goes.
    testPausePoint(`${out}#swap`, tmp);
    if (existsSync(out)) {
      const aside = path.join(parent, `.${base}.old-${process.pid}-${Date.now().toString(36)}`);
      renameSync(out, aside);
      testPausePoint(`${out}#aside`, aside);
      try {
        renameSync(tmp, out);
      } catch (err) {
        renameSync(aside, out);
        throw err;
      }
      rmSync(aside, { recursive: true, force: true });
    } else {
      renameSync(tmp, out);
    }
    return { out, upToDate: false, manifest, ms: Date.now() - t0 };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}
