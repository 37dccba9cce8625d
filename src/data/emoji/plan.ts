/**
 * The listing plan of emoji-match: which emoji become label groups, how many listings each
 * gets (a long tail like Shopee's), and each listing's image, locale and title. Pure and seeded;
 * no images are drawn here.
 */
import { Rng } from "../../rng";
import type { EmojiImageRef } from "./join";
import type { EmojiRecord, EmojiText } from "./text";

/** Options for {@link planEmojiListings}. */
export interface EmojiPlanOptions {
  /** The seed every choice flows from. Defaults to 0. */
  seed?: number;
  /** Pick whole emoji families (a base emoji and its skin tones) at random until `groups` is reached. Defaults to false (every eligible emoji, in emojibase order). */
  sample?: boolean;
  /** The most label groups to make. Defaults to 300 with `sample`, else every eligible emoji. */
  groups?: number;
  /** Locales the titles are drawn from. Defaults to every locale in `text`. */
  locales?: readonly string[];
  /** Largest group. Defaults to 51 (Shopee's largest). */
  maxGroupSize?: number;
  /** Tail exponent: P(size = k) ∝ (k − 1)^−α for k = 2…maxGroupSize. Defaults to 2.2 (mean ≈ 3, two thirds of groups are pairs). */
  alpha?: number;
  /** Chance that a listing reuses an image already in its group while unused ones remain (sellers reuse photos). Defaults to 0.2. */
  reuseImage?: number;
  /** Chance that a listing's title is in its group's main locale rather than a random one. Defaults to 0.6. */
  mainLocale?: number;
}

/** One planned listing (a row of train.csv, before its image is rendered). */
export interface EmojiListing {
  postingId: string;
  labelGroup: number;
  emoji: EmojiRecord;
  image: EmojiImageRef;
  locale: string;
  title: string;
  /** The emoji's tags in `locale`. */
  tags: string[];
}

/** The cumulative distribution of group sizes 2…max with P(k) ∝ (k − 1)^−α. */
export function groupSizeCdf(maxGroupSize: number, alpha: number): Float64Array {
  if (!Number.isInteger(maxGroupSize) || maxGroupSize < 2) throw new Error(`maxGroupSize must be an integer ≥ 2, got ${maxGroupSize}`);
  if (!(alpha > 0)) throw new Error(`alpha must be > 0, got ${alpha}`);
  const w = new Float64Array(maxGroupSize - 1);
  let sum = 0;
  for (let k = 2; k <= maxGroupSize; k++) sum += w[k - 2] = (k - 1) ** -alpha;
  let acc = 0;
  for (let i = 0; i < w.length; i++) w[i] = acc += w[i]! / sum;
  w[w.length - 1] = 1;
  return w;
}

function drawSize(rng: Rng, cdf: Float64Array): number {
  const u = rng.next();
  let i = 0;
  while (i < cdf.length - 1 && u >= cdf[i]!) i++;
  return i + 2;
}

function drawTitle(rng: Rng, label: string, tags: readonly string[], locale: string): string {
  const pool = rng.shuffle(tags.filter((t) => t !== label));
  const k = rng.int(Math.min(pool.length, 4) + 1);
  const parts = pool.slice(0, k);
  if (rng.bool(0.8)) parts.unshift(label);
  else parts.push(label);
  let title = parts.join(" ");
  if (rng.bool(0.2)) title = title.charAt(0).toLocaleUpperCase(locale) + title.slice(1);
  return title;
}

function uniqueInt(rng: Rng, used: Set<number>, lo: number, span: number): number {
  for (;;) {
    const v = lo + rng.int(span);
    if (!used.has(v)) {
      used.add(v);
      return v;
    }
  }
}

/**
 * Plans the listings: one label group per eligible emoji (one with at least two distinct images),
 * sizes from a truncated power law, images chosen within the group (with reuse), titles from the
 * label plus a seeded choice of tags in a seeded locale. Rows come back in a seeded random order.
 */
export function planEmojiListings(text: EmojiText, images: ReadonlyMap<string, readonly EmojiImageRef[]>, opts: EmojiPlanOptions = {}): EmojiListing[] {
  const {
    seed = 0,
    sample = false,
    locales = text.locales,
    maxGroupSize = 51,
    alpha = 2.2,
    reuseImage = 0.2,
    mainLocale = 0.6,
  } = opts;
  const groups = opts.groups ?? (sample ? 300 : Number.POSITIVE_INFINITY);
  if (!(groups >= 1)) throw new Error(`groups must be ≥ 1, got ${groups}`);
  for (const l of locales) if (!text.byLocale.has(l)) throw new Error(`locale ${l} was not loaded (loaded: ${text.locales.join(",")})`);
  if (locales.length === 0) throw new Error("no locales to draw titles from");

  const eligible = text.emojis.filter((e) => (images.get(e.hexcode)?.length ?? 0) >= 2);
  if (eligible.length === 0) throw new Error("no emoji has images in at least two distinct drawings: check the art sets");
  let chosen: EmojiRecord[];
  if (sample || Number.isFinite(groups)) {
    const families = new Map<string, EmojiRecord[]>();
    for (const e of eligible) {
      let f = families.get(e.base);
      if (!f) {
        f = [];
        families.set(e.base, f);
      }
      f.push(e);
    }
    const order = sample ? Rng.derive(seed, "sample").shuffle([...families.keys()]) : [...families.keys()];
    const pick = new Set<string>();
    for (const base of order) {
      if (pick.size >= groups) break;
      for (const e of families.get(base)!) if (pick.size < groups) pick.add(e.hexcode);
    }
    chosen = eligible.filter((e) => pick.has(e.hexcode));
  } else {
    chosen = eligible;
  }

  const cdf = groupSizeCdf(maxGroupSize, alpha);
  const idRng = Rng.derive(seed, "ids");
  const usedGroups = new Set<number>();
  const usedPostings = new Set<number>();
  const rows: EmojiListing[] = [];
  for (const e of chosen) {
    const rng = Rng.derive(seed, "group", e.hexcode);
    const labelGroup = uniqueInt(idRng, usedGroups, 100_000_000, 4_200_000_000);
    const size = drawSize(rng, cdf);
    const pool = rng.shuffle([...images.get(e.hexcode)!]);
    const main = rng.pick(locales);
    const used: EmojiImageRef[] = [];
    const seen = new Set<string>();
    for (let j = 0; j < size; j++) {
      let image: EmojiImageRef;
      if (used.length === 0 || (used.length < pool.length && !rng.bool(reuseImage))) {
        image = pool[used.length]!;
        used.push(image);
      } else {
        image = rng.pick(used);
      }
      const locale = rng.bool(mainLocale) ? main : rng.pick(locales);
      const t = text.byLocale.get(locale)!.get(e.hexcode);
      if (!t) throw new Error(`emojibase-data locale ${locale} has no entry for ${e.hexcode} (${e.label})`);
      let title = drawTitle(rng, t.label, t.tags, locale);
      for (let tries = 0; tries < 5 && seen.has(`${image.set}/${image.icon}\n${title}`); tries++) title = drawTitle(rng, t.label, t.tags, locale);
      seen.add(`${image.set}/${image.icon}\n${title}`);
      const postingId = `train_${uniqueInt(idRng, usedPostings, 100_000_000, 4_200_000_000)}`;
      rows.push({ postingId, labelGroup, emoji: e, image, locale, title, tags: t.tags });
    }
  }
  return Rng.derive(seed, "order").shuffle(rows);
}
