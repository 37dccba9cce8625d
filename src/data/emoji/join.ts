/**
 * Joining art-set icons to emojibase emoji. Sets that ship `chars.json` join on the codepoint
 * sequence (FE0F removed); the others join on the icon name: the slugified English CLDR label,
 * or a name another set's `chars.json` gives the same emoji, with Fluent-style skin-tone suffixes
 * (`artist-dark`) and Streamline-style variant numbers (`astronaut-2`) mapped. A drawing that two
 * different emoji share (same SVG body, e.g. a set drawing `firefighter` and `man firefighter`
 * alike, or identical flags) is left out of both: identical pixels under two labels are noise.
 */
import type { IconifySource, ResolvedIcon } from "./sources";
import { resolveIcon } from "./sources";
import type { EmojiText } from "./text";
import { emojiSlug } from "./text";

/** How an icon was matched to its emoji. */
export type EmojiJoin = "chars" | "name";

/** One image available for one emoji: an icon of one art set. */
export interface EmojiImageRef {
  /** The art set's prefix. */
  set: string;
  /** The icon name in the set (may be an alias). */
  icon: string;
  /** Emojibase hexcode of the emoji. */
  hexcode: string;
  joinedBy: EmojiJoin;
  resolved: ResolvedIcon;
}

/** Per-set join statistics, for the manifest. */
export interface EmojiJoinStats {
  set: string;
  joinedBy: EmojiJoin;
  /** Distinct images joined to an emoji. */
  images: number;
  /** Icons left out because the same drawing was claimed by two different emoji. */
  ambiguous: number;
}

/** The join's result: images per emoji hexcode (art-set order, then icon name) and statistics per set. */
export interface EmojiImageIndex {
  byHexcode: Map<string, EmojiImageRef[]>;
  stats: EmojiJoinStats[];
}

const TONE_SUFFIX = /-(light|medium-light|medium|medium-dark|dark)$/;

/** A key for "the same drawing": the body's content (interned to a number) plus everything that changes how it is drawn. */
function drawingKey(r: ResolvedIcon, bodies: Map<string, number>): string {
  let id = bodies.get(r.body);
  if (id === undefined) {
    id = bodies.size;
    bodies.set(r.body, id);
  }
  return `${id}|${r.left},${r.top},${r.width},${r.height}|${r.rotate}|${r.hFlip ? 1 : 0}${r.vFlip ? 1 : 0}`;
}

function addName(index: Map<string, string | null>, name: string, hexcode: string): void {
  const prev = index.get(name);
  if (prev === undefined) index.set(name, hexcode);
  else if (prev !== hexcode) index.set(name, null); // ambiguous
}

/** Joins every source's icons to the emoji in `text`. */
export function joinEmojiImages(sources: readonly IconifySource[], text: EmojiText): EmojiImageIndex {
  const byKey = new Map<string, string>();
  for (const e of text.emojis) byKey.set(e.key, e.hexcode);
  const keyOf = (cp: string) =>
    byKey.get(
      cp
        .toLowerCase()
        .split("-")
        .filter((c) => c !== "fe0f")
        .join("-"),
    );

  // Name index: slugified English labels, plus names that chars.json files give each emoji.
  const names = new Map<string, string | null>();
  for (const e of text.emojis) addName(names, emojiSlug(e.label), e.hexcode);
  for (const s of sources) {
    for (const [cp, name] of Object.entries(s.chars ?? {})) {
      const hex = keyOf(cp);
      if (hex) addName(names, name, hex);
    }
  }
  const squashed = new Map<string, string | null>();
  for (const [name, hex] of names) if (hex) addName(squashed, name.replaceAll("-", ""), hex);
  const byName = (name: string): string | undefined => {
    const tries = [name];
    if (TONE_SUFFIX.test(name)) tries.push(`${name}-skin-tone`);
    const stripped = name.replace(/-\d+$/, "");
    if (stripped !== name && stripped !== "") {
      tries.push(stripped);
      if (TONE_SUFFIX.test(stripped)) tries.push(`${stripped}-skin-tone`);
    }
    for (const t of tries) {
      const h = names.get(t);
      if (h) return h;
    }
    if (!name.includes("-")) return squashed.get(name) ?? undefined;
    return undefined;
  };

  const byHexcode = new Map<string, EmojiImageRef[]>();
  const stats: EmojiJoinStats[] = [];
  for (const s of sources) {
    const joinedBy: EmojiJoin = s.chars && Object.keys(s.chars).length > 0 ? "chars" : "name";
    const candidates: Array<[string, string]> = []; // [icon name, hexcode]
    if (joinedBy === "chars") {
      for (const [cp, name] of Object.entries(s.chars!)) {
        const hex = keyOf(cp);
        if (hex) candidates.push([name, hex]);
      }
    } else {
      for (const name of [...Object.keys(s.icons.icons), ...Object.keys(s.icons.aliases ?? {})]) {
        const hex = byName(name);
        if (hex) candidates.push([name, hex]);
      }
    }
    // One image per drawing; a drawing claimed by two different emoji is left out of both.
    const owner = new Map<string, string | null>();
    const bodies = new Map<string, number>();
    const refs = new Map<string, EmojiImageRef>();
    for (const [name, hex] of candidates) {
      const resolved = resolveIcon(s.icons, name);
      if (!resolved) continue; // chars.json names an icon the set does not hold
      const k = drawingKey(resolved, bodies);
      const prev = owner.get(k);
      if (prev === undefined) {
        owner.set(k, hex);
        refs.set(k, { set: s.prefix, icon: name, hexcode: hex, joinedBy, resolved });
      } else if (prev !== hex) {
        owner.set(k, null);
      } else if (name < refs.get(k)!.icon) {
        refs.set(k, { set: s.prefix, icon: name, hexcode: hex, joinedBy, resolved }); // canonical name: smallest
      }
    }
    let images = 0;
    let ambiguous = 0;
    const sorted = [...refs.entries()].sort((a, b) => (a[1].icon < b[1].icon ? -1 : a[1].icon > b[1].icon ? 1 : 0));
    for (const [k, ref] of sorted) {
      if (owner.get(k) === null) {
        ambiguous++;
        continue;
      }
      images++;
      let list = byHexcode.get(ref.hexcode);
      if (!list) {
        list = [];
        byHexcode.set(ref.hexcode, list);
      }
      list.push(ref);
    }
    stats.push({ set: s.prefix, joinedBy, images, ambiguous });
  }
  return { byHexcode, stats };
}
