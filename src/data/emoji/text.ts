/**
 * Emoji text from `emojibase-data`: for every emoji (skin-tone variants included) its English
 * record (character, group, subgroup) and, per locale, its CLDR label and tags.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { env } from "../../env";
import { projectRequire } from "./sources";

/** One emoji: an emojibase entry or one of its skin-tone variants. */
export interface EmojiRecord {
  /** Emojibase hexcode, uppercase with dashes (`1F44B-1F3FB`). */
  hexcode: string;
  /** The hexcode lowercased with every FE0F removed, the key the Iconify `chars.json` files use. */
  key: string;
  emoji: string;
  /** The English CLDR label (`waving hand: light skin tone`). */
  label: string;
  /** Group key (`people-body`). */
  group: string;
  /** Subgroup key (`hand-fingers-open`). */
  subgroup: string;
  /** The hexcode of the base emoji for a skin-tone variant; its own hexcode otherwise. */
  base: string;
  /** Skin tone(s) 1–5 for variants; empty for the base emoji. */
  tones: number[];
}

/** Label and tags of one emoji in one locale. Skin-tone variants carry their base emoji's tags. */
export interface EmojiLocaleText {
  label: string;
  tags: string[];
}

/** The text side of the dataset: emoji records plus per-locale text. */
export interface EmojiText {
  /** The emojibase-data version, for the manifest. */
  version: string;
  /** Every emoji with a group other than `component` (base emoji and skin-tone variants), in emojibase order. */
  emojis: EmojiRecord[];
  /** The locales loaded, in the order asked for. */
  locales: string[];
  /** locale → hexcode → text. */
  byLocale: Map<string, Map<string, EmojiLocaleText>>;
}

/** The lowercase, FE0F-free form of a codepoint sequence (`2764-FE0F` → `2764`), the join key to Iconify. */
export function emojiKey(hexcode: string): string {
  return hexcode
    .toLowerCase()
    .split("-")
    .filter((cp) => cp !== "fe0f")
    .join("-");
}

/** Iconify-style slug of an English label: `waving hand: light skin tone` → `waving-hand-light-skin-tone`. */
export function emojiSlug(label: string): string {
  return label
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[’']/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function emojibaseDir(root: string): string {
  try {
    return path.dirname(projectRequire(root).resolve("emojibase-data/package.json"));
  } catch {
    throw new Error("package emojibase-data is not installed (run npm install)");
  }
}

/** The locales emojibase-data ships (folders holding a `data.json`), sorted. */
export function emojiLocales(root: string = env.root): string[] {
  const dir = emojibaseDir(root);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((name) => existsSync(path.join(dir, name, "data.json")))
    .sort();
}

/** Throws for any locale emojibase-data does not ship, listing the valid ones. */
export function checkEmojiLocales(locales: readonly string[], root: string = env.root): void {
  const valid = emojiLocales(root);
  const bad = locales.filter((l) => !valid.includes(l));
  if (bad.length) throw new Error(`unknown locale${bad.length > 1 ? "s" : ""}: ${bad.join(", ")} (expected some of ${valid.join(",")})`);
  if (locales.length === 0) throw new Error(`no locales given (expected some of ${valid.join(",")})`);
  const dup = locales.find((l, i) => locales.indexOf(l) !== i);
  if (dup) throw new Error(`locale ${dup} given twice`);
}

interface RawEmoji {
  label: string;
  hexcode: string;
  emoji: string;
  tags?: string[];
  group?: number;
  subgroup?: number;
  tone?: number | number[];
  skins?: RawEmoji[];
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Loads emoji records and the labels and tags of `locales` from emojibase-data.
 * English is always read (it names the emoji and drives the name join) but only appears in
 * `byLocale` when asked for.
 */
export function loadEmojiText(locales: readonly string[], root: string = env.root): EmojiText {
  checkEmojiLocales(locales, root);
  const dir = emojibaseDir(root);
  const version = String(readJson(path.join(dir, "package.json")).version ?? "");
  const meta = readJson(path.join(dir, "meta", "groups.json")) as { groups: Record<string, string>; subgroups: Record<string, string> };
  const en = readJson(path.join(dir, "en", "data.json")) as RawEmoji[];
  const emojis: EmojiRecord[] = [];
  for (const e of en) {
    if (e.group === undefined) continue; // regional indicators and bare skin-tone / hair components
    const group = meta.groups[String(e.group)] ?? String(e.group);
    if (group === "component") continue;
    const subgroup = e.subgroup === undefined ? "" : (meta.subgroups[String(e.subgroup)] ?? String(e.subgroup));
    const rec = (r: RawEmoji, tones: number[]): EmojiRecord => ({
      hexcode: r.hexcode,
      key: emojiKey(r.hexcode),
      emoji: r.emoji,
      label: r.label,
      group,
      subgroup,
      base: e.hexcode,
      tones,
    });
    emojis.push(rec(e, []));
    for (const s of e.skins ?? []) emojis.push(rec(s, s.tone === undefined ? [] : Array.isArray(s.tone) ? s.tone : [s.tone]));
  }
  const byLocale = new Map<string, Map<string, EmojiLocaleText>>();
  for (const locale of locales) {
    const raw = (locale === "en" ? en : readJson(path.join(dir, locale, "data.json"))) as RawEmoji[];
    const m = new Map<string, EmojiLocaleText>();
    for (const e of raw) {
      const tags = (e.tags ?? []).filter((t) => t && t !== e.label);
      m.set(e.hexcode, { label: e.label, tags });
      for (const s of e.skins ?? []) m.set(s.hexcode, { label: s.label, tags: (s.tags ?? tags).filter((t) => t && t !== s.label) });
    }
    byLocale.set(locale, m);
  }
  return { version, emojis, locales: [...locales], byLocale };
}
