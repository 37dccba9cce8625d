import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/data/csv";
import {
  buildEmojiMatch,
  EMOJI_MATCH_COLUMNS,
  EMOJI_MATCH_FORMAT,
  type EmojiMatchOptions,
  emojiKey,
  emojiSlug,
  type IconifySource,
  loadEmojiText,
  loadIconifySources,
} from "../../src/data/emoji/index";
import { phash } from "../../src/data/phash";

const text = loadEmojiText(["en"]);
// 14 smileys plus the waving-hand family (base + 5 skin tones): 20 emoji.
const smileys = text.emojis.filter((e) => e.group === "smileys-emotion" && e.tones.length === 0).slice(0, 14);
const waving = text.emojis.filter((e) => e.base === "1F44B");
const chosen = [...smileys, ...waving];

function body(i: number, salt: number): string {
  const hue = (i * 47 + salt * 131) % 360;
  return (
    `<rect x="${i % 5}" y="${(i * 3) % 5}" width="10" height="10" fill="hsl(${hue},70%,50%)"/>` +
    `<circle cx="${4 + ((i + salt) % 9)}" cy="${4 + ((i * 7 + salt) % 9)}" r="${2 + (salt % 3)}" fill="#${((i * 99991 + salt * 7919) & 0xffffff).toString(16).padStart(6, "0")}"/>`
  );
}

/** Set A ships chars.json (joined on codepoints). */
function setA(): IconifySource {
  const icons: Record<string, { body: string }> = {};
  const chars: Record<string, string> = {};
  chosen.forEach((e, i) => {
    icons[`a-${i}`] = { body: body(i, 1) };
    chars[emojiKey(e.hexcode)] = `a-${i}`;
  });
  return { prefix: "fake-a", name: "Fake A", license: { title: "CC0", spdx: "CC0-1.0" }, version: "1.0.0", icons: { prefix: "fake-a", icons, width: 16, height: 16 }, chars };
}

/** Set B has no chars.json: joined by slugified English names, Fluent-style tone suffixes, Streamline-style numbers. */
function setB(): IconifySource {
  const icons: Record<string, { body: string; width?: number }> = {};
  const aliases: Record<string, { parent: string; hFlip?: boolean }> = {};
  chosen.forEach((e, i) => {
    const name = e.tones.length ? `waving-hand-${["light", "medium-light", "medium", "medium-dark", "dark"][e.tones[0]! - 1]}` : emojiSlug(e.label);
    icons[name] = { body: body(i, 2) };
  });
  icons[`${emojiSlug(smileys[0]!.label)}-2`] = { body: body(0, 3), width: 20 }; // a second drawing of the first smiley
  aliases["some-alias"] = { parent: emojiSlug(smileys[1]!.label) }; // same drawing: must not count twice
  icons["not-an-emoji-name"] = { body: body(99, 2) };
  return { prefix: "fake-b", name: "Fake B", license: { title: "MIT", spdx: "MIT" }, version: "2.0.0", icons: { prefix: "fake-b", icons, aliases, height: 16, width: 16 } };
}

const base = (extra: EmojiMatchOptions = {}): EmojiMatchOptions => ({ sources: [setA(), setB()], size: 32, locales: ["en", "fr"], progress: false, concurrency: 2, ...extra });

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

function readRows(dir: string) {
  const t = parseCsv(readFileSync(path.join(dir, "train.csv"), "utf8"));
  return { header: t.header, rows: t.rows.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r[i]!]))) };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "emoji-match-test-"));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("buildEmojiMatch", () => {
  it("writes a Shopee-style train.csv whose every image exists, with groups of ≥ 2 listings", async () => {
    const out = path.join(tmp, "a");
    const res = await buildEmojiMatch(base({ out, seed: 1 }));
    expect(res.upToDate).toBe(false);
    const { header, rows } = readRows(out);
    expect(header).toEqual([...EMOJI_MATCH_COLUMNS]);
    expect(header.slice(0, 5)).toEqual(["posting_id", "image", "image_phash", "title", "label_group"]);
    expect(rows.length).toBe(res.manifest.counts.rows);
    expect(new Set(rows.map((r) => r.posting_id)).size).toBe(rows.length);
    for (const r of rows) {
      expect(r.posting_id).toMatch(/^train_\d+$/);
      expect(r.image).toMatch(/^[0-9a-f]{32}\.png$/);
      expect(existsSync(path.join(out, "train_images", r.image!))).toBe(true);
      expect(r.image_phash).toMatch(/^[0-9a-f]{16}$/);
      expect(["en", "fr"]).toContain(r.locale);
      expect(["fake-a", "fake-b"]).toContain(r.art_set);
      expect(r.license).toBe(r.art_set === "fake-a" ? "CC0-1.0" : "MIT");
      expect(r.title!.length).toBeGreaterThan(0);
    }
    // One group per emoji, all 20, each with ≥ 2 rows; label_group ↔ hexcode one to one.
    const byGroup = new Map<string, typeof rows>();
    for (const r of rows) byGroup.set(r.label_group!, [...(byGroup.get(r.label_group!) ?? []), r]);
    expect(byGroup.size).toBe(20);
    for (const g of byGroup.values()) {
      expect(g.length).toBeGreaterThanOrEqual(2);
      expect(new Set(g.map((r) => r.hexcode)).size).toBe(1);
    }
    expect(new Set(rows.map((r) => r.hexcode))).toEqual(new Set(chosen.map((e) => e.hexcode)));
    // Skin tones are groups of their own (hard negatives), labelled as such.
    const tones = rows.filter((r) => r.hexcode!.startsWith("1F44B-"));
    expect(new Set(tones.map((r) => r.label_group)).size).toBe(5);
    expect(tones.every((r) => /skin tone/.test(r.label!))).toBe(true);
    // Every file in train_images is used, and the phash column is the hash of the image's pixels.
    const files = readdirSync(path.join(out, "train_images"));
    expect(new Set(files)).toEqual(new Set(rows.map((r) => r.image)));
    const r0 = rows[0]!;
    const { data, info } = await sharp(path.join(out, "train_images", r0.image!)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([32, 32, 3]);
    expect(phash(data, 32, 32)).toBe(r0.image_phash);
    // Manifest: counts and licences.
    const m = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"));
    expect(m.counts.groups).toBe(20);
    expect(m.counts.groupSize.min).toBeGreaterThanOrEqual(2);
    expect(m.sources.map((s: { set: string; joinedBy: string }) => `${s.set}:${s.joinedBy}`)).toEqual(["fake-a:chars", "fake-b:name"]);
    expect(m.sources[1].imagesAvailable).toBe(21); // 20 names + the "-2" variant; the alias and the stray name do not count
  });

  it("writes byte-identical files for the same seed and different ones for another seed", async () => {
    const a = path.join(tmp, "same-1");
    const b = path.join(tmp, "same-2");
    const c = path.join(tmp, "other");
    await buildEmojiMatch(base({ out: a, seed: 7 }));
    await buildEmojiMatch(base({ out: b, seed: 7, concurrency: 1 }));
    await buildEmojiMatch(base({ out: c, seed: 8 }));
    const ha = hashTree(a);
    expect(Object.keys(ha).length).toBeGreaterThan(3);
    expect(hashTree(b)).toEqual(ha);
    expect(hashTree(c)["train.csv"]).not.toBe(ha["train.csv"]);
  });

  it("sample mode keeps whole skin-tone families and honours groups", async () => {
    const out = path.join(tmp, "sample");
    const res = await buildEmojiMatch(base({ out, seed: 3, sample: true, groups: 8 }));
    expect(res.manifest.counts.groups).toBe(8);
    const { rows } = readRows(out);
    const hex = new Set(rows.map((r) => r.hexcode));
    const wavingIn = waving.filter((e) => hex.has(e.hexcode)).length;
    // A family is either absent, cut only by the group limit, or whole.
    if (wavingIn > 0 && wavingIn < waving.length) expect(hex.size).toBe(8);
  });

  it("leaves a current build alone, refuses other options without force, and never replaces a foreign folder", async () => {
    const out = path.join(tmp, "a");
    const before = hashTree(out);
    const again = await buildEmojiMatch(base({ out, seed: 1 }));
    expect(again.upToDate).toBe(true);
    await expect(buildEmojiMatch(base({ out, seed: 2 }))).rejects.toThrow(/other options \(seed 1 → 2\).*--force/);
    expect(hashTree(out)).toEqual(before);
    const forced = await buildEmojiMatch(base({ out, seed: 2, force: true }));
    expect(forced.upToDate).toBe(false);
    expect(hashTree(out)["train.csv"]).not.toBe(before["train.csv"]);

    // A build by an older builder format is outdated and rebuilt without --force.
    const manifestPath = path.join(out, "manifest.json");
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, "utf8")), format: 0 }));
    const rebuilt = await buildEmojiMatch(base({ out, seed: 2 }));
    expect(rebuilt.upToDate).toBe(false);
    expect(JSON.parse(readFileSync(manifestPath, "utf8")).format).toBe(EMOJI_MATCH_FORMAT);

    const foreign = path.join(tmp, "my-shopee");
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, "train.csv"), "posting_id,image,image_phash,title,label_group\n");
    await expect(buildEmojiMatch(base({ out: foreign, force: true }))).rejects.toThrow(/not an emoji-match build.*refusing/);
    expect(readdirSync(foreign)).toEqual(["train.csv"]);
  });

  it("names the art set and icon of a corrupt SVG, and leaves the old dataset untouched", async () => {
    const out = path.join(tmp, "corrupt");
    await buildEmojiMatch(base({ out, seed: 4 }));
    const before = hashTree(out);
    const bad = setA();
    Object.values(bad.icons.icons).forEach((icon, i) => {
      icon.body = `<path d="M0 0L${i} 16" stroke="red"`; // unclosed tag (distinct per icon, so no two emoji share a drawing)
    });
    await expect(buildEmojiMatch({ ...base({ out, seed: 4, force: true }), sources: [bad, setB()] })).rejects.toThrow(
      /art set fake-a, icon "a-\d+" \(emoji [0-9A-F-]+ ".+"\): corrupt SVG, sharp could not rasterise it/,
    );
    const blank = setA();
    Object.values(blank.icons.icons).forEach((icon, i) => {
      icon.body = `<g id="g${i}"/>`;
    });
    await expect(buildEmojiMatch({ ...base({ out, seed: 4, force: true }), sources: [blank, setB()] })).rejects.toThrow(
      /art set fake-a, icon "a-\d+".*blank/,
    );
    expect(hashTree(out)).toEqual(before);
    expect(readdirSync(tmp).filter((n) => n.includes(".partial-") || n.includes(".old-"))).toEqual([]);
  });

  it("an interrupted build (writer throws, or the signal aborts) leaves the old dataset and no partial folder", async () => {
    const out = path.join(tmp, "interrupt");
    await buildEmojiMatch(base({ out, seed: 5 }));
    const before = hashTree(out);
    await expect(
      buildEmojiMatch(
        base({
          out,
          seed: 6,
          force: true,
          onImageWritten: (done) => {
            if (done === 5) throw new Error("disk full (simulated)");
          },
        }),
      ),
    ).rejects.toThrow(/disk full/);
    expect(hashTree(out)).toEqual(before);
    const ac = new AbortController();
    await expect(
      buildEmojiMatch(base({ out, seed: 6, force: true, signal: ac.signal, onImageWritten: (done) => done === 3 && ac.abort() })),
    ).rejects.toThrow(/interrupted/);
    expect(hashTree(out)).toEqual(before);
    // A first build that fails leaves nothing at all.
    const fresh = path.join(tmp, "fresh");
    await expect(
      buildEmojiMatch(
        base({
          out: fresh,
          onImageWritten: () => {
            throw new Error("boom");
          },
        }),
      ),
    ).rejects.toThrow(/boom/);
    expect(existsSync(fresh)).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.includes(".partial-") || n.includes(".old-"))).toEqual([]);
  });

  it("rejects unknown locales (listing the valid ones) and bad options before doing any work", async () => {
    const out = path.join(tmp, "never");
    await expect(buildEmojiMatch(base({ out, locales: ["en", "xx-yy"] }))).rejects.toThrow(/unknown locale: xx-yy \(expected some of .*\ben\b.*\bfr\b/);
    await expect(buildEmojiMatch(base({ out, size: 3 }))).rejects.toThrow(/size must be an integer from 8/);
    await expect(buildEmojiMatch(base({ out, groups: 0 }))).rejects.toThrow(/groups must be a positive integer/);
    await expect(buildEmojiMatch({ out, sets: ["noto", "wingdings"], locales: ["en"], progress: false })).rejects.toThrow(/unknown art set: wingdings \(expected .*noto/);
    expect(existsSync(out)).toBe(false);
  });

  it("builds from the real Iconify packages (twemoji + openmoji) and emojibase locales", async () => {
    const out = path.join(tmp, "real");
    const sources = loadIconifySources(["twemoji", "openmoji"]);
    const res = await buildEmojiMatch({ out, sources, sample: true, groups: 12, size: 32, locales: ["en", "ja"], seed: 2, progress: false });
    const { rows } = readRows(out);
    expect(res.manifest.counts.groups).toBe(12);
    expect(rows.every((r) => r.art_set === "twemoji" || r.art_set === "openmoji")).toBe(true);
    expect(rows.find((r) => r.art_set === "openmoji")?.license).toBe("CC-BY-SA-4.0");
    expect(rows.some((r) => r.locale === "ja")).toBe(true);
    for (const r of rows) expect(existsSync(path.join(out, "train_images", r.image!))).toBe(true);
  });
});
