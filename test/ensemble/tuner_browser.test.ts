import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildPairTable } from "../../src/ensemble/pair_table";
import { ensembleTunerHtml, formatTunerScore, tunerScore } from "../../src/ensemble/tuner";
import { twoBranches } from "./fixtures";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const have = existsSync(CHROMIUM);

describe.skipIf(!have)(`ensemble tuner in headless Chromium${have ? "" : ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`}`, () => {
  it("renders, and moving a slider recomputes F1 to the value TypeScript computes", async () => {
    const { chromium } = await import("playwright-core");
    const f = await twoBranches(3, 50);
    const table = buildPairTable(
      [
        { name: "image", neighbours: f.nbA, embeddings: { data: f.A, dim: f.dim } },
        { name: "text", neighbours: f.nbB, embeddings: { data: f.B, dim: f.dim } },
      ],
      f.labels,
    );
    const initial = { weights: [0.5, 0.5], minSimilarity: 0.5, branchMinSimilarities: [null, null], min2: true };
    const html = ensembleTunerHtml(table, { id: "tun", initial });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      // block any network access: the page must be self-contained
      await page.route("**/*", (route) => route.abort());
      await page.setContent(`<!doctype html><html><body>${html}</body></html>`);
      const f1 = page.locator("#tun-f1");
      await expect.poll(() => f1.textContent()).toBe(formatTunerScore(tunerScore(table, initial).f1));

      // move the threshold slider and the text weight
      await page.locator("#tun-t").fill("0.72");
      await page.locator("#tun-w1").fill("0.9");
      const moved = { weights: [0.5, 0.9], minSimilarity: 0.72, branchMinSimilarities: [null, null], min2: true };
      const expected = formatTunerScore(tunerScore(table, moved).f1);
      await expect.poll(() => f1.textContent()).toBe(expected);
      expect(expected).not.toBe(formatTunerScore(tunerScore(table, initial).f1));

      // switch on the image branch's union threshold
      await page.locator("#tun-u0").check();
      await page.locator("#tun-b0").fill("0.6");
      const union = { ...moved, branchMinSimilarities: [0.6, null] };
      await expect.poll(() => f1.textContent()).toBe(formatTunerScore(tunerScore(table, union).f1));
      expect(await page.locator("#tun-r").textContent()).toBe(formatTunerScore(tunerScore(table, union).recall));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
