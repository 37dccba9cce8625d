import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { chromiumPath, countPlotlyCopies, figureHtmlPage, saveHtml, savePng } from "../../src/notebook/index";
import { histogramChart } from "../../src/plots/index";

const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fig = histogramChart(
  [
    { name: "matched", values: [0.1, 0.2, 0.25, 0.3] },
    { name: "unmatched", values: [0.6, 0.7, 0.8] },
  ],
  { bins: 5, title: "distances", width: 500, height: 300 },
);
const haveChromium = existsSync(chromiumPath());

describe("saveHtml", () => {
  it("writes one self-contained page: plotly.js inlined once, no external scripts", () => {
    const file = path.join(dir, "sub", "fig.html");
    saveHtml(fig, file);
    const html = readFileSync(file, "utf8");
    expect(countPlotlyCopies(html)).toBe(1);
    // (plotly.js itself mentions CDN URLs in strings; what matters is that nothing is loaded)
    expect(/<script[^>]+src=/.test(html)).toBe(false);
    expect(/<link[^>]+href=/.test(html)).toBe(false);
    expect(html).toContain("<title>distances</title>");
    expect(readdirSync(path.dirname(file))).toEqual(["fig.html"]); // no temp file left behind
    expect(figureHtmlPage(fig)).toContain('id="figure"');
  });
});

describe.skipIf(!haveChromium)("savePng (headless Chromium)", () => {
  it("renders the figure to a PNG of the requested size", async () => {
    const file = path.join(dir, "fig.png");
    await savePng(fig, file, { width: 400, height: 250, scale: 2 });
    const m = await sharp(file).metadata();
    expect([m.format, m.width, m.height]).toEqual(["png", 800, 500]);
    // not blank: the translucent blue bars (#0072B2 at 0.6 over white: about rgb(102, 170, 209))
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let blue = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i]! < 130 && data[i + 2]! > 180) blue++;
    expect(blue).toBeGreaterThan(500);
  });
});

if (!haveChromium) console.warn(`savePng tests skipped: no Chromium at ${chromiumPath()} (apt-get install chromium)`);
