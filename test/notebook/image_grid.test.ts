import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { imageGridBundle } from "../../src/notebook/image_grid";

const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-grid-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pngAt(name: string, w: number, h: number): Promise<string> {
  const file = path.join(dir, name);
  await sharp({ create: { width: w, height: h, channels: 3, background: "#ff0000" } }).png().toFile(file);
  return file;
}

function dataUrls(html: string): Buffer[] {
  return [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => Buffer.from(m[1]!, "base64"));
}

describe("imageGrid", () => {
  it("embeds paths, encoded bytes and raw pixels as PNG thumbnails with escaped captions", async () => {
    await pngAt("a.png", 200, 100);
    const bytes = await sharp({ create: { width: 10, height: 10, channels: 4, background: "#00ff0080" } }).png().toBuffer();
    const pixels = { data: new Float32Array(4 * 4 * 3).fill(0.5), width: 4, height: 4 };
    const b = await imageGridBundle(
      [
        { src: "a.png", caption: "<b>wide</b>" },
        { src: bytes, caption: "bytes", color: "green" },
        { src: pixels, caption: "x".repeat(100) },
      ],
      { size: 64, baseDir: dir, title: "grid" },
    );
    const html = b.data["text/html"] as string;
    const pngs = dataUrls(html);
    expect(pngs).toHaveLength(3);
    const metas = await Promise.all(pngs.map((p) => sharp(p).metadata()));
    expect(metas.map((m) => [m.format, m.width, m.height])).toEqual([
      ["png", 64, 32],
      ["png", 64, 64],
      ["png", 64, 64],
    ]);
    expect(html).toContain("&lt;b&gt;wide&lt;/b&gt;");
    expect(html).not.toContain("<b>wide");
    expect(html).toContain("outline:3px solid green");
    expect(html).toContain(`${"x".repeat(59)}…`);
    expect(b.data["text/plain"]).toBe('<image grid: 3 images "grid">');
  });

  it("says which item failed and why", async () => {
    writeFileSync(path.join(dir, "bad.png"), "not a png");
    await expect(imageGridBundle([{ src: "nope.png" }], { baseDir: dir })).rejects.toThrow(/item 0: cannot read image \(.*nope\.png\)/);
    await expect(imageGridBundle([{ src: "a.png" }, { src: "bad.png" }], { baseDir: dir })).rejects.toThrow(/item 1: cannot read image/);
    await expect(imageGridBundle([{ src: { data: new Uint8Array(5), width: 2, height: 2 } }])).rejects.toThrow(/does not fit 2x2/);
    await expect(imageGridBundle([], { size: 2 })).rejects.toThrow(/size must be an integer in 8..1024/);
  });
});
