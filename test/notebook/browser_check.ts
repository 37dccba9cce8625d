// Helpers for the browser tests: open an exported notebook HTML offline in headless Chromium and
// report what rendered and what went wrong. Test-only (not part of src/).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../../src/notebook/export";

/** What a page showed. */
export interface PageReport {
  /** `.matchlab-figure` elements in the page. */
  figures: number;
  /** Figures with a plotly `.main-svg` of non-zero size. */
  rendered: number;
  /** Ids of figures that did not render. */
  missing: string[];
  /** `<img>` elements that failed to decode. */
  brokenImages: number;
  /** Console errors, page errors, and blocked or failed requests. */
  errors: string[];
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
}

/** Opens `file` with every non-file, non-data request blocked (and reported), waits for the figures. */
export async function checkPage(browser: Browser, file: string, timeoutMs = 60_000): Promise<PageReport> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url().slice(0, 200)} (${r.failure()?.errorText})`));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
    errors.push(`network request (offline page must not fetch): ${url.slice(0, 200)}`);
    return route.abort();
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: timeoutMs });
    const expected = await page.locator(".matchlab-figure").count();
    await page
      .waitForFunction((n) => document.querySelectorAll(".matchlab-figure .main-svg").length >= n, expected, { timeout: timeoutMs, polling: 200 })
      .catch(() => undefined); // reported below as missing figures
    const result = await page.evaluate(() => {
      const figs = Array.from(document.querySelectorAll(".matchlab-figure"));
      const missing: string[] = [];
      let rendered = 0;
      for (const f of figs) {
        const svg = f.querySelector(".main-svg");
        const r = svg?.getBoundingClientRect();
        if (r && r.width > 0 && r.height > 0 && f.querySelectorAll(".main-svg .plot, .main-svg .cartesianlayer").length > 0) rendered++;
        else missing.push(f.id);
      }
      const brokenImages = Array.from(document.images).filter((im) => !im.complete || im.naturalWidth === 0).length;
      return { figures: figs.length, rendered, missing, brokenImages };
    });
    return { ...result, errors };
  } finally {
    await context.close();
  }
}

/** Figure and library outputs of an executed .ipynb (by the metadata src/notebook writes). */
export function ipynbPlotlyOutputs(file: string): { figures: number; libraries: number } {
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: Array<{ outputs?: Array<{ metadata?: { matchlab?: { plotly?: string } } }> }> };
  let figures = 0;
  let libraries = 0;
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const kind = o.metadata?.matchlab?.plotly;
      if (kind === "figure") figures++;
      if (kind === "library") libraries++;
    }
  }
  return { figures, libraries };
}
