/**
 * The Shopee-schema dataset: `posting_id, image, image_phash, title, label_group` plus any extra
 * columns, over a CSV and an image folder. `loadDataset` validates every row and either throws one
 * error listing the offending rows, or (onBadRow: "skip") drops them with a report. Nothing is
 * dropped silently.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { DataFrame } from "danfojs-node";
import { progress } from "../progress";
import { formatCsv, parseCsv } from "./csv";
import { ImageDecodeError, imageHeader, MAX_IMAGE_PIXELS, readImage } from "./image";

/** One listing (one CSV row). */
export interface Listing {
  postingId: string;
  /** The `image` column, as written in the CSV (relative to the image folder). */
  image: string;
  /** The absolute image path. */
  imagePath: string;
  /** The `image_phash` column ("" when the CSV has none). */
  imagePhash: string;
  title: string;
  labelGroup: string;
  /** Every other column, by name. */
  extra: Record<string, string>;
  /** The 1-based CSV line of the row (the header is line 1), for error messages; absent for listings not read from a CSV. */
  line?: number;
}

/** A loaded, validated dataset. */
export interface Dataset {
  /** The dataset folder. */
  dir: string;
  csvPath: string;
  imageDir: string;
  listings: Listing[];
  /** The CSV's columns, in file order. */
  columns: string[];
  /** Whether the CSV has a label_group column (a competition test.csv has none; every listing's labelGroup is then ""). */
  hasLabels: boolean;
  /** Rows dropped under `onBadRow: "skip"` (empty otherwise). */
  skipped: DatasetIssue[];
  /** A danfo DataFrame of the listings (CSV column names; built on first call, then cached). */
  frame(): DataFrame;
}

/** Why a row is bad. */
export type DatasetIssueKind =
  | "missing-column"
  | "empty-posting-id"
  | "duplicate-posting-id"
  | "empty-title"
  | "empty-image"
  | "image-escapes-folder"
  | "missing-image"
  | "corrupt-image"
  | "image-too-large"
  | "empty-label-group"
  | "small-group"
  | "wrong-field-count";

/** One bad row: where, what, and what would be right. */
export interface DatasetIssue {
  /** 1-based line in the CSV (the header is line 1); 0 for file-level problems. */
  line: number;
  postingId: string;
  kind: DatasetIssueKind;
  /** What is wrong and what would be right. */
  reason: string;
}

/** Options for {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** The CSV file, absolute or relative to the dataset folder. Defaults to "train.csv". */
  csv?: string;
  /** The image folder, absolute or relative to the dataset folder. Defaults to "train_images". */
  imageDir?: string;
  /** What to do with bad rows, a key of {@link ON_BAD_ROW}: `error` throws a {@link DatasetError} listing every bad row; `skip` drops them and lists them in `skipped`. Defaults to "error". */
  onBadRow?: OnBadRow;
  /** `"decode"` decodes every image in full (catches truncated files too); `true` checks each image exists, stays inside the image folder (symlinks resolved), and its header reads with at most `maxPixels` pixels; `"exists"` only checks it exists and stays inside; `false` checks nothing. Defaults to true. */
  checkImages?: boolean | "exists" | "decode";
  /** With `checkImages` true or "decode": the most pixels an image may have. Defaults to {@link MAX_IMAGE_PIXELS} (40 million). */
  maxPixels?: number;
  /** The least rows a label_group may have (a group of one has nothing to match). Set 1 to allow singletons. Defaults to 2. */
  minGroupSize?: number;
  /** Keep only the first `limit` valid rows (after validation). Defaults to all. */
  limit?: number;
  /** Print the skip report to stderr when rows are skipped. Defaults to true. */
  warn?: boolean;
  /** `required`: the CSV must have label_group; `optional`: an unlabelled CSV (a test set) loads too, with `hasLabels` false. Defaults to "required". */
  labels?: "required" | "optional";
}

/** What {@link loadDataset} does with bad rows (`onBadRow`, and a run config's `data.on_bad_row`). */
export const ON_BAD_ROW = Object.freeze({
  error: "stop with one error listing every bad row (line, posting_id, what is wrong)",
  skip: "drop the bad rows and list them (stderr, and bad_rows.csv in a run folder)",
} as const);

/** A key of {@link ON_BAD_ROW}. */
export type OnBadRow = keyof typeof ON_BAD_ROW;

/** The values of {@link ON_BAD_ROW}, for enums. */
export const ON_BAD_ROW_NAMES: readonly OnBadRow[] = Object.freeze(Object.keys(ON_BAD_ROW) as OnBadRow[]);

/** The columns every dataset CSV must have. */
export const REQUIRED_COLUMNS: readonly string[] = Object.freeze(["posting_id", "image", "title", "label_group"]);
const KNOWN = new Set(["posting_id", "image", "image_phash", "title", "label_group"]);

/** Formats issues as lines `line 12 (posting_id abc): reason`, at most `max` of them. */
export function formatDatasetIssues(issues: readonly DatasetIssue[], max = 25): string {
  const lines = issues.slice(0, max).map((i) => `  ${i.line > 0 ? `line ${i.line}` : "file"}${i.postingId ? ` (posting_id ${i.postingId})` : ""}: ${i.kind}: ${i.reason}`);
  if (issues.length > max) lines.push(`  … and ${issues.length - max} more`);
  return lines.join("\n");
}

/** Thrown by {@link loadDataset} when rows are bad and `onBadRow` is "error"; `issues` lists them all. */
export class DatasetError extends Error {
  readonly issues: DatasetIssue[];
  /** `message` replaces the bad-row list for a dataset that cannot be read at all (no CSV, no image folder; `issues` is then empty). */
  constructor(csvPath: string, issues: DatasetIssue[], message?: string) {
    super(
      message ??
        `${csvPath}: ${issues.length} bad row${issues.length === 1 ? "" : "s"}:\n${formatDatasetIssues(issues)}\n` +
          `fix the rows, or pass { onBadRow: "skip" } to drop them with a report`,
    );
    this.name = "DatasetError";
    this.issues = issues;
  }
}

/**
 * The error of one listing's image failing after loading (decoding in a cache, a loader or an
 * encoder): a {@link DatasetError} naming the CSV line, posting_id and image path, with the
 * underlying reason.
 * @example throw rowImageError(ds, ds.listings[i], err);
 */
export function rowImageError(ds: Pick<Dataset, "csvPath">, listing: Listing, err: unknown): DatasetError {
  const e = err instanceof ImageDecodeError ? err : null;
  const why = e ? e.reason : err instanceof Error ? err.message : String(err);
  return new DatasetError(ds.csvPath, [{ line: listing.line ?? 0, postingId: listing.postingId, kind: e?.kind ?? "corrupt-image", reason: `image ${listing.imagePath}: ${why}` }]);
}

/** The bad rows as a CSV (`line,posting_id,kind,reason`), e.g. a run folder's `bad_rows.csv`. */
export function badRowsCsv(issues: readonly DatasetIssue[]): string {
  return formatCsv(
    ["line", "posting_id", "kind", "reason"],
    issues.map((i) => [String(i.line), i.postingId, i.kind, i.reason]),
  );
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Loads and validates a Shopee-layout dataset folder (train.csv + train_images/).
 * @example
 * const ds = await loadDataset(env.dataset);
 * ds.listings[0].title; ds.frame().head().print();
 */
export async function loadDataset(dir: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const { csv = "train.csv", imageDir = "train_images", onBadRow = "error", checkImages = true, maxPixels = MAX_IMAGE_PIXELS, minGroupSize = 2, limit, warn = true, labels = "required" } = opts;
  const known = ["csv", "imageDir", "onBadRow", "checkImages", "maxPixels", "minGroupSize", "limit", "warn", "labels"];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new Error(`loadDataset: unknown option ${k} (expected ${known.join("|")})`);
  if (!Object.hasOwn(ON_BAD_ROW, onBadRow)) throw new Error(`loadDataset: bad value for onBadRow: ${JSON.stringify(onBadRow)} (expected one of ${ON_BAD_ROW_NAMES.join("|")})`);
  if (![true, false, "exists", "decode"].includes(checkImages)) throw new Error(`loadDataset: bad value for checkImages: ${JSON.stringify(checkImages)} (expected true|false|"exists"|"decode")`);
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new Error(`loadDataset: bad value for maxPixels: ${JSON.stringify(maxPixels)} (expected a positive integer)`);
  const root = path.resolve(dir);
  const csvPath = path.resolve(root, csv);
  const imgDir = path.resolve(root, imageDir);
  if (!existsSync(csvPath)) throw new DatasetError(csvPath, [], `dataset CSV not found: ${csvPath} (expected <dir>/${csv}; build the sample with \`matchlab data --sample\`)`);
  if (checkImages !== false && !(existsSync(imgDir) && statSync(imgDir).isDirectory())) {
    throw new DatasetError(csvPath, [], `image folder not found: ${imgDir} (expected <dir>/${imageDir}/ holding the CSV's image files)`);
  }
  const table = parseCsv(readFileSync(csvPath, "utf8"), csvPath);
  const hasLabels = table.header.includes("label_group");
  const missing = REQUIRED_COLUMNS.filter((c) => !table.header.includes(c) && !(c === "label_group" && labels === "optional"));
  if (missing.length > 0) {
    throw new DatasetError(csvPath, [
      {
        line: 1,
        postingId: "",
        kind: "missing-column",
        reason: `missing required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (header is: ${table.header.join(", ")}; expected at least ${REQUIRED_COLUMNS.join(", ")})`,
      },
    ]);
  }
  const col = (name: string) => table.header.indexOf(name);
  const [cId, cImg, cPh, cTitle, cLab] = [col("posting_id"), col("image"), col("image_phash"), col("title"), col("label_group")];
  const extraCols = table.header.map((h, i) => [h, i] as const).filter(([h]) => !KNOWN.has(h));

  const issues: DatasetIssue[] = [];
  const bad = new Set<number>(); // row indices
  const flag = (r: number, kind: DatasetIssueKind, reason: string, postingId = table.rows[r]?.[cId] ?? "") => {
    issues.push({ line: table.lines[r]!, postingId, kind, reason });
    bad.add(r);
  };
  const seen = new Map<string, number>();
  const relRoot = imgDir + path.sep;
  const candidates: number[] = [];
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r]!;
    if (row.length !== table.header.length) {
      flag(r, "wrong-field-count", `${row.length} fields, expected ${table.header.length} (quote fields holding commas: "a, b")`, row[cId] ?? "");
      continue;
    }
    const id = row[cId]!.trim();
    if (id === "") flag(r, "empty-posting-id", "posting_id is empty (expected a unique non-empty id)");
    else if (seen.has(id)) flag(r, "duplicate-posting-id", `posting_id ${id} already used on line ${table.lines[seen.get(id)!]} (expected unique ids)`);
    else seen.set(id, r);
    if (row[cTitle]!.trim() === "") flag(r, "empty-title", "title is empty (expected the listing's text)");
    if (hasLabels && row[cLab]!.trim() === "") flag(r, "empty-label-group", "label_group is empty (expected the id of the group this listing matches)");
    const img = row[cImg]!.trim();
    if (img === "") flag(r, "empty-image", "image is empty (expected a file name inside the image folder)");
    else {
      const abs = path.resolve(imgDir, img);
      if (path.isAbsolute(img) || !abs.startsWith(relRoot)) {
        flag(r, "image-escapes-folder", `image ${JSON.stringify(img)} resolves outside the image folder ${imgDir} (expected a relative path inside it, without ../)`);
      } else if (!bad.has(r)) candidates.push(r);
    }
  }

  if (checkImages !== false && candidates.length > 0) {
    const bar = progress({ label: "checking images", total: candidates.length, renderer: candidates.length >= 500 ? undefined : null });
    // symlinks are resolved: a file whose real path leaves the real image folder escapes it
    const realRoot = realpathSync(imgDir) + path.sep;
    const results = await mapLimit(candidates, 16, async (r) => {
      const abs = path.resolve(imgDir, table.rows[r]![cImg]!.trim());
      let res: [DatasetIssueKind, string] | null = null;
      if (!existsSync(abs)) res = ["missing-image", `image file not found: ${abs}`];
      else {
        const real = realpathSync(abs);
        if (!real.startsWith(realRoot)) res = ["image-escapes-folder", `image ${abs} is a symlink to ${real}, outside the image folder ${imgDir} (expected a file inside it)`];
        else if (checkImages === true || checkImages === "decode") {
          try {
            if (checkImages === "decode") await readImage(abs, { size: 8, maxPixels });
            else await imageHeader(abs, maxPixels);
          } catch (err) {
            const e = err instanceof ImageDecodeError ? err : null;
            res = [e?.kind ?? "corrupt-image", `image ${abs}: ${e ? e.reason : String(err)}`];
          }
        }
      }
      bar.tick();
      return res;
    });
    bar.finish();
    candidates.forEach((r, i) => {
      const res = results[i];
      if (res) flag(r, res[0], res[1]);
    });
  }

  // Group sizes, counted over rows still good; in skip mode, dropping a small group's rows cannot shrink another group.
  if (minGroupSize > 1 && hasLabels) {
    const sizes = new Map<string, number>();
    for (let r = 0; r < table.rows.length; r++) {
      if (bad.has(r)) continue;
      const g = table.rows[r]![cLab]!.trim();
      sizes.set(g, (sizes.get(g) ?? 0) + 1);
    }
    for (let r = 0; r < table.rows.length; r++) {
      if (bad.has(r)) continue;
      const g = table.rows[r]![cLab]!.trim();
      const n = sizes.get(g)!;
      if (n < minGroupSize) {
        flag(r, "small-group", `label_group ${g} has ${n} valid row${n === 1 ? "" : "s"} (expected at least ${minGroupSize}: a listing needs a match; pass minGroupSize: 1 to allow it)`);
      }
    }
  }

  issues.sort((a, b) => a.line - b.line);
  if (issues.length > 0 && onBadRow === "error") throw new DatasetError(csvPath, issues);
  if (issues.length > 0 && warn) {
    console.warn(`${csvPath}: skipped ${bad.size} of ${table.rows.length} rows:\n${formatDatasetIssues(issues)}`);
  }

  const listings: Listing[] = [];
  for (let r = 0; r < table.rows.length; r++) {
    if (bad.has(r)) continue;
    if (limit !== undefined && listings.length >= limit) break;
    const row = table.rows[r]!;
    const extra: Record<string, string> = {};
    for (const [h, i] of extraCols) extra[h] = row[i]!;
    const image = row[cImg]!.trim();
    listings.push({
      postingId: row[cId]!.trim(),
      image,
      imagePath: path.resolve(imgDir, image),
      imagePhash: cPh >= 0 ? row[cPh]!.trim() : "",
      title: row[cTitle]!,
      labelGroup: hasLabels ? row[cLab]!.trim() : "",
      extra,
      line: table.lines[r]!,
    });
  }
  let cached: DataFrame | null = null;
  return {
    dir: root,
    csvPath,
    imageDir: imgDir,
    listings,
    columns: table.header,
    hasLabels,
    skipped: issues,
    frame() {
      cached ??= listingsFrame(listings, table.header);
      return cached;
    },
  };
}

/** Builds a danfo DataFrame of listings with the CSV's column names (`posting_id`, `title`, … and extras). */
export function listingsFrame(listings: readonly Listing[], columns: readonly string[] = ["posting_id", "image", "image_phash", "title", "label_group"]): DataFrame {
  const data: Record<string, string[]> = {};
  for (const c of columns) {
    data[c] = listings.map((l) => {
      switch (c) {
        case "posting_id":
          return l.postingId;
        case "image":
          return l.image;
        case "image_phash":
          return l.imagePhash;
        case "title":
          return l.title;
        case "label_group":
          return l.labelGroup;
        default:
          return l.extra[c] ?? "";
      }
    });
  }
  return new DataFrame(data);
}

/** Maps each listing's label_group to a dense integer code (in first-seen order); returns codes and the names. */
export function labelCodes(listings: readonly Listing[], key: (l: Listing) => string = (l) => l.labelGroup): { codes: Int32Array; names: string[] } {
  const map = new Map<string, number>();
  const codes = new Int32Array(listings.length);
  listings.forEach((l, i) => {
    const k = key(l);
    let c = map.get(k);
    if (c === undefined) {
      c = map.size;
      map.set(k, c);
    }
    codes[i] = c;
  });
  return { codes, names: [...map.keys()] };
}

/**
 * Throws when a dataset has no label_group column, saying what needed it and why.
 * @example requireLabels(ds, "matchlab match --tune", "it tunes weights and thresholds against the groups")
 */
export function requireLabels(ds: Pick<Dataset, "hasLabels" | "csvPath">, what: string, why: string): void {
  if (!ds.hasLabels) throw new Error(`${what} needs the label_group column, which ${ds.csvPath} lacks: ${why} (an unlabelled test set can only be embedded and matched, e.g. by matchlab predict)`);
}
