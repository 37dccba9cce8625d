import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  emojiKey,
  emojiLocales,
  emojiSlug,
  groupSizeCdf,
  type IconifyJson,
  iconSvg,
  joinEmojiImages,
  loadEmojiText,
  planEmojiListings,
  resolveIcon,
} from "../../src/data/emoji/index";

async function raster(svg: string, size: number): Promise<Buffer> {
  return (await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true })).data.subarray(0, size * size * 4);
}

describe("Iconify icons", () => {
  const set: IconifyJson = {
    prefix: "t",
    width: 16,
    height: 16,
    icons: {
      // an asymmetric drawing: a block in the top-left corner
      corner: { body: '<rect x="0" y="0" width="6" height="4" fill="#f00"/>' },
      wide: { body: '<rect width="32" height="16" fill="#00f"/>', width: 32 },
    },
    aliases: {
      mirrored: { parent: "corner", hFlip: true },
      flipped: { parent: "mirrored", vFlip: true },
      turned: { parent: "corner", rotate: 1 },
      loop: { parent: "loop" },
    },
  };

  it("resolves aliases with defaults and combined transforms", () => {
    expect(resolveIcon(set, "corner")).toMatchObject({ bodyName: "corner", width: 16, height: 16, left: 0, top: 0, hFlip: false, rotate: 0 });
    expect(resolveIcon(set, "flipped")).toMatchObject({ bodyName: "corner", hFlip: true, vFlip: true });
    expect(resolveIcon(set, "wide")).toMatchObject({ width: 32, height: 16 });
    expect(resolveIcon(set, "missing")).toBeNull();
    expect(resolveIcon(set, "loop")).toBeNull();
  });

  it("draws flips and rotations where Iconify would (checked on rendered pixels)", async () => {
    const n = 16;
    const px = async (name: string) => raster(iconSvg(resolveIcon(set, name)!, n), n);
    const red = (img: Buffer, x: number, y: number) => img[(y * n + x) * 4 + 3]! > 128;
    const corner = await px("corner");
    const mirrored = await px("mirrored");
    const flipped = await px("flipped");
    const turned = await px("turned");
    expect([red(corner, 1, 1), red(corner, 14, 1)]).toEqual([true, false]);
    expect([red(mirrored, 1, 1), red(mirrored, 14, 1)]).toEqual([false, true]);
    expect([red(flipped, 14, 14), red(flipped, 1, 1)]).toEqual([true, false]);
    expect([red(turned, 14, 1), red(turned, 1, 1)]).toEqual([true, false]); // a quarter turn clockwise
    // A non-square icon is fitted, centred, into the square box.
    const wide = await raster(iconSvg(resolveIcon(set, "wide")!, n), n);
    expect([red(wide, 8, 1), red(wide, 8, 8)]).toEqual([false, true]);
  });
});

describe("emojibase text and the join", () => {
  it("normalises hexcodes and slugs like Iconify", () => {
    expect(emojiKey("2764-FE0F-200D-1F525")).toBe("2764-200d-1f525");
    expect(emojiSlug("waving hand: light skin tone")).toBe("waving-hand-light-skin-tone");
    expect(emojiSlug("piñata")).toBe("pinata");
    expect(emojiSlug("man’s shoe")).toBe("mans-shoe");
  });

  it("lists the shipped locales and loads labels and tags per locale", () => {
    const locales = emojiLocales();
    expect(locales).toContain("en");
    expect(locales).toContain("zh-hant");
    const t = loadEmojiText(["fr", "ja"]);
    expect(t.locales).toEqual(["fr", "ja"]);
    expect(t.byLocale.has("en")).toBe(false);
    const wave = t.emojis.find((e) => e.hexcode === "1F44B-1F3FB")!;
    expect(wave).toMatchObject({ base: "1F44B", tones: [1], group: "people-body", label: "waving hand: light skin tone" });
    const fr = t.byLocale.get("fr")!.get("1F44B-1F3FB")!;
    expect(fr.label).toMatch(/main/);
    expect(fr.tags.length).toBeGreaterThan(0); // a variant carries its base emoji's tags
    expect(t.emojis.some((e) => e.group === "component")).toBe(false);
  });

  it("joins name-only sets by slug, tone suffix, variant number and squashed name; drops drawings two emoji claim", () => {
    const t = loadEmojiText(["en"]);
    const icons: IconifyJson = {
      prefix: "n",
      icons: {
        "grinning-face": { body: "<g id='1'/>" },
        "waving-hand-dark": { body: "<g id='2'/>" },
        "astronaut-2": { body: "<g id='3'/>" },
        wavinghand: { body: "<g id='4'/>" },
        "no-such-emoji": { body: "<g id='5'/>" },
        "flag-france": { body: "<g id='6'/>" },
        "flag-st-martin": { body: "<g id='6'/>" }, // an identical body under another emoji's name → ambiguous
      },
      aliases: { "red-heart": { parent: "grinning-face" } }, // same drawing, two emoji → ambiguous
    };
    const idx = joinEmojiImages([{ prefix: "n", name: "N", license: { title: "MIT" }, icons }], t);
    const got = Object.fromEntries([...idx.byHexcode.entries()].map(([h, refs]) => [h, refs.map((r) => r.icon)]));
    expect(got).toEqual({ "1F44B-1F3FF": ["waving-hand-dark"], "1F9D1-200D-1F680": ["astronaut-2"], "1F44B": ["wavinghand"] });
    expect(idx.stats).toEqual([{ set: "n", joinedBy: "name", images: 3, ambiguous: 2 }]);
  });

  it("draws long-tailed group sizes between 2 and 51, most groups pairs", () => {
    const cdf = groupSizeCdf(51, 2.2);
    expect(cdf.length).toBe(50);
    expect(cdf[0]).toBeGreaterThan(0.6);
    expect(cdf[49]).toBe(1);
    expect(() => groupSizeCdf(1, 2)).toThrow(/maxGroupSize/);
    const t = loadEmojiText(["en"]);
    const images = new Map(
      t.emojis.map((e) => [e.hexcode, [0, 1].map((k) => ({ set: `s${k}`, icon: e.hexcode, hexcode: e.hexcode, joinedBy: "chars" as const, resolved: null as never }))]),
    );
    const rows = planEmojiListings(t, images, { seed: 1 });
    const sizes = new Map<number, number>();
    for (const r of rows) sizes.set(r.labelGroup, (sizes.get(r.labelGroup) ?? 0) + 1);
    const s = [...sizes.values()];
    expect(Math.min(...s)).toBe(2);
    expect(Math.max(...s)).toBeLessThanOrEqual(51);
    expect(Math.max(...s)).toBeGreaterThan(20);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    expect(mean).toBeGreaterThan(2.6);
    expect(mean).toBeLessThan(4);
  });
});
