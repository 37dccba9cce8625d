/**
 * Standalone figure export: `saveHtml` writes one self-contained, offline HTML page (plotly.js
 * inlined); `savePng` renders it in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser is downloaded). Both write to a temporary file, then rename.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../fs_atomic";
import type { Figure } from "../plots/types";
import { escapeHtmlText, figureBundle } from "./outputs";
import { plotlySource } from "./plotly_source";

/** The Chromium that `savePng` and the browser tests use. Defaults to `$MATCHLAB_CHROMIUM` or /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.MATCHLAB_CHROMIUM || "/usr/bin/chromium";
}

/** Chromium flags for offline, headless, sandbox-less rendering. */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]);

/** The self-contained HTML page of a figure (plotly.js inlined); pure apart from reading plotly.js. */
export function figureHtmlPage(fig: Figure, title = "matchlab figure"): string {
  const { source, version } = plotlySource();
  const body = figureBundle(fig, { id: "figure", plotlyMime: false }).data["text/html"] as string;
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtmlText(title)}</title>\n` +
    `<script type="text/javascript">/* plotly.js ${escapeHtmlText(version)} */\n(function (module, exports, define) {\n${source}\n}).call(window);</script>\n` +
    `</head><body style="margin:0;background:#fff">\n${body}\n</body></html>\n`
  );
}

/**
 * Writes a figure as a self-contained HTML file that opens offline.
 * @example ml.saveHtml(fig, "reports/group_sizes.html")
 */
export function saveHtml(fig: Figure, file: string): void {
  const layoutTitle = fig.layout.title as { text?: string } | undefined;
  writeFileAtomic(file, figureHtmlPage(fig, layoutTitle?.text ?? path.basename(file, path.extname(file))));
}

/** Options for {@link savePng}. */
export interface SavePngOptions {
  /** Image width in CSS pixels. Defaults to the layout's width or 800. */
  width?: number;
  /** Image height in CSS pixels. Defaults to the layout's height or 450. */
  height?: number;
  /** Device pixel ratio (2 for crisp slides). Defaults to 1. */
  scale?: number;
  /** Give up after this long. Defaults to 60 s. */
  timeoutMs?: number;
}

/**
 * Renders a figure to PNG in headless Chromium (needs /usr/bin/chromium or `$MATCHLAB_CHROMIUM`).
 * @example await ml.savePng(fig, "reports/group_sizes.png", { scale: 2 })
 */
export async function savePng(fig: Figure, file: string, opts: SavePngOptions = {}): Promise<void> {
  const { width = typeof fig.layout.width === "number" ? fig.layout.width : 800, height = typeof fig.layout.height === "number" ? fig.layout.height : 450, scale = 1, timeoutMs = 60_000 } = opts;
  const exe = chromiumPath();
  if (!existsSync(exe)) throw new Error(`savePng: no Chromium at ${exe} (apt-get install chromium, or set MATCHLAB_CHROMIUM)`);
  const sized: Figure = { ...fig, layout: { ...fig.layout, width, height, autosize: false } };
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: exe, args: [...CHROMIUM_ARGS], timeout: timeoutMs });
  try {
    const page = await browser.newPage({ viewport: { width: Math.ceil(width), height: Math.ceil(height) }, deviceScaleFactor: scale, offline: true } as never);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.setContent(figureHtmlPage(sized), { timeout: timeoutMs });
    await page.waitForSelector("#figure .main-svg", { timeout: timeoutMs }).catch(() => {
      throw new Error(`savePng: the figure did not render${errors.length ? `: ${errors.join("; ")}` : ""}`);
    });
    // evaluated in the page (a string, so this file needs no DOM types: tslab compiles without them)
    const dataUrl = (await page.evaluate(
      `Plotly.toImage(document.getElementById("figure"), ${JSON.stringify({ format: "png", width, height, scale })})`,
    )) as string;
    const b64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
    writeFileAtomic(file, Buffer.from(b64, "base64"));
  } finally {
    await browser.close();
  }
}
