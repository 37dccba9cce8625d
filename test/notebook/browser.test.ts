// Browser checks of the rich output, with real Jupyter and real headless Chromium (offline):
//  1. every executed notebook's HTML export in reports/ renders all its figures with no console
//     errors and no network requests (notebooks missing from reports/ are executed first);
//  2. a notebook with ten figures carries plotly.js once, in the .ipynb and in the HTML;
//  3. figures render whatever order their outputs and the library output are rendered in.
// Skipped with a message only when Chromium is absent. Needs npm test's notebook step first
// (or it runs scripts/run_notebooks.mjs itself for the notebooks lacking a report).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "../../src/env";
import { chromiumPath } from "../../src/notebook/export";
import { countPlotlyCopies, figureBundle, plotlyLibraryBundle } from "../../src/notebook/outputs";
import { plotlySource } from "../../src/notebook/plotly_source";
import {
  barChart,
  boxChart,
  confusionChart,
  countsChart,
  type Figure,
  heatmapChart,
  histogramChart,
  lineChart,
  longTailChart,
  scatterChart,
  thresholdChart,
  trainingCurves,
} from "../../src/plots/index";
import { checkPage, ipynbPlotlyOutputs, launchChromium } from "./browser_check";

const root = env.root;
const reports = path.join(root, "reports");
const haveChromium = existsSync(chromiumPath());
if (!haveChromium) console.warn(`browser tests skipped: no Chromium at ${chromiumPath()} (apt-get install chromium, or set MATCHLAB_CHROMIUM)`);

function listNames(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext) && f !== "index.html")
    .map((f) => f.slice(0, -ext.length));
}
const notebookNames = listNames(path.join(root, "notebooks"), ".ipynb");
const reportNames = [...new Set([...notebookNames, ...listNames(reports, ".html")])].sort();

async function scripts(): Promise<{ jupyter: any; flags: readonly string[] }> {
  const jupyter = await import(pathToFileURL(path.join(root, "scripts", "jupyter.mjs")).href);
  const { HTML_FLAGS } = await import(pathToFileURL(path.join(root, "scripts", "html_export.mjs")).href);
  return { jupyter, flags: HTML_FLAGS };
}

let browser: Browser | undefined;
beforeAll(async () => {
  if (haveChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!haveChromium)("the checker itself", () => {
  it("reports network requests, script errors and unrendered figures", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-bad-"));
    const file = path.join(dir, "bad.html");
    writeFileSync(
      file,
      '<!doctype html><script src="https://cdn.example.com/require.js"></script>' +
        '<div class="matchlab-figure" id="f"></div><script>undefinedFunction()</script><img src="missing.png">',
    );
    const r = await checkPage(browser!, file, 2000);
    rmSync(dir, { recursive: true, force: true });
    expect(r.figures).toBe(1);
    expect(r.rendered).toBe(0);
    expect(r.missing).toEqual(["f"]);
    expect(r.brokenImages).toBe(1);
    expect(r.errors.join("\n")).toMatch(/network request .*cdn\.example\.com/);
    expect(r.errors.join("\n")).toMatch(/undefinedFunction/);
  });
});

describe.skipIf(!haveChromium)("figures render in any output order", () => {
  it("figures before the library output wait for it, then render", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-order-"));
    const file = path.join(dir, "order.html");
    const figs = [0, 1, 2].map((i) => figureBundle(countsChart({ a: i + 1, b: 2 }), { id: `late-${i}` }).data["text/html"]);
    const { source, version } = plotlySource();
    const lib = plotlyLibraryBundle(source, version).data["text/html"];
    // a fake AMD loader on the page, as in classic Notebook / nbconvert's template
    const amd = "<script>window.define = function () { throw new Error('anonymous define() must not be called'); }; window.define.amd = {};</script>";
    writeFileSync(file, `<!doctype html><meta charset="utf-8">${amd}<body>${figs.join("\n")}\n${lib}</body>`);
    const r = await checkPage(browser!, file);
    rmSync(dir, { recursive: true, force: true });
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ figures: 3, rendered: 3, missing: [] });
  });
});

describe.skipIf(!haveChromium)("a figure whose library output was cleared", () => {
  it("says what happened instead of staying blank", async () => {
    const page = await browser!.newPage();
    await page.setContent(`<!doctype html><body>${figureBundle(countsChart({ a: 1 }), { id: "orphan" }).data["text/html"]}</body>`);
    await page.waitForFunction(() => /Waiting for plotly\.js/.test(document.getElementById("orphan")?.textContent ?? ""), undefined, { timeout: 15_000 });
    const text = await page.locator("#orphan").textContent();
    await page.close();
    expect(text).toMatch(/re-run the notebook \(or call showPlotlyLibrary\(\)\)/);
  });
});

describe.skipIf(!haveChromium)("every figure builder", () => {
  it("produces specs plotly.js accepts (Plotly.validate) and draws", async () => {
    const gallery: Record<string, Figure> = {
      bar: barChart({ labels: ["a", "b", "c"], values: [3, 1, 2], orientation: "h", top: 2 }),
      counts: countsChart([2, 2, 3, 5, 2], { sort: "label", logY: true }),
      longTail: longTailChart([5, 3, 2, 2, 2]),
      histogram: histogramChart([{ name: "matched", values: [0.1, 0.2, 0.3] }, { name: "unmatched", values: [0.5, 0.7] }], { histnorm: "probability", lines: [{ at: 0.4, label: "t" }] }),
      grouped: histogramChart([{ name: "a", values: [1, 2] }, { name: "b", values: [2, 3] }], { mode: "group", bins: 3 }),
      curves: trainingCurves({ loss: [1, 0.5, Number.NaN], val_loss: [1.1, 0.7, 0.6], val_f1: [0.2, 0.5, 0.6] }),
      threshold: thresholdChart({ thresholds: [0.1, 0.2, 0.3], score: [0.4, 0.7, 0.5], precision: [0.3, 0.7, 0.9], recall: [0.9, 0.7, 0.3] }),
      line: lineChart([{ name: "y", y: [1, 4, 9], dash: "dot" }], { logY: true, lines: [{ at: 2, axis: "y", label: "h" }] }),
      scatter: scatterChart({ x: [0, 1, 2, 3], y: [1, 0, 1, 0], groups: ["a", "a", "b", "c"], text: ["p", "q", "r", "s"], maxGroups: 1 }),
      heatmap: heatmapChart({ z: [[1, 2], [3, 4]], normalise: "col" }),
      confusion: confusionChart([[5, 1], [2, 7]], { labels: ["cat", "dog"] }),
      box: boxChart([{ name: "a", values: [1, 2, 3, 4, 50] }, { name: "b", values: [2, 3, 4] }]),
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-gallery-"));
    const file = path.join(dir, "gallery.html");
    const { source, version } = plotlySource();
    const figs = Object.entries(gallery).map(([id, f]) => figureBundle(f, { id }).data["text/html"]);
    writeFileSync(file, `<!doctype html><meta charset="utf-8"><body>${plotlyLibraryBundle(source, version).data["text/html"]}${figs.join("\n")}</body>`);
    const r = await checkPage(browser!, file);
    const page = await browser!.newPage();
    await page.setContent(`<script>${source}</script>`);
    const invalid = await page.evaluate(`(${JSON.stringify(gallery)})`).then(async (specs) => {
      const out: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(specs as Record<string, Figure>)) {
        const v = await page.evaluate(`Plotly.validate(${JSON.stringify(f.data)}, ${JSON.stringify(f.layout)})`);
        if (v) out[name] = v;
      }
      return out;
    });
    await page.close();
    rmSync(dir, { recursive: true, force: true });
    expect(invalid).toEqual({});
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ figures: 12, rendered: 12, missing: [] });
  });
});

describe.skipIf(!haveChromium)("a notebook with ten figures (real kernel, real nbconvert)", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-ten-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("carries plotly.js once and renders all ten figures offline", async () => {
    const { jupyter, flags } = await scripts();
    const cmd = jupyter.findJupyter();
    expect(cmd, "Jupyter with nbconvert is missing: run `npm run setup`").toBeTruthy();
    jupyter.writeKernelSpec();
    const code = (src: string, i: number) => ({ cell_type: "code", execution_count: null, id: `c${i}`, metadata: {}, outputs: [], source: src });
    const cells = [
      code('import { show } from "./src/notebook/show";\nimport { histogramChart, lineChart } from "./src/plots/index";', 0),
      ...Array.from({ length: 9 }, (_, i) =>
        code(`show(histogramChart([{ name: "a", values: [1, 2, 2, ${3 + i}] }, { name: "b", values: [3, 4, 4, 5] }], { title: "figure ${i + 1}" }));`, i + 1),
      ),
      code('show(lineChart([{ name: "loss", y: [1, 0.5, 0.3] }], { title: "figure 10" }));\n"done"', 10),
    ];
    const nb = {
      cells,
      metadata: { kernelspec: { display_name: "matchlab (TypeScript)", language: "typescript", name: jupyter.KERNEL } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const src = path.join(dir, "ten.ipynb");
    writeFileSync(src, JSON.stringify(nb));
    const out = path.join(dir, "out");
    mkdirSync(out);
    const jenv = jupyter.jupyterEnv({ MATCHLAB_QUIET: "1" });
    const exec = spawnSync(
      cmd,
      ["nbconvert", "--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${jupyter.KERNEL}`, "--ExecutePreprocessor.timeout=300", "--output-dir", out, src],
      { cwd: root, env: jenv, encoding: "utf8" },
    );
    expect(exec.status, exec.stderr.split("\n").slice(-30).join("\n")).toBe(0);
    const executed = path.join(out, "ten.ipynb");
    const html = spawnSync(cmd, ["nbconvert", ...flags, "--output-dir", out, executed], { cwd: root, env: jenv, encoding: "utf8" });
    expect(html.status, html.stderr).toBe(0);
    const ipynbText = readFileSync(executed, "utf8");
    const htmlText = readFileSync(path.join(out, "ten.html"), "utf8");
    expect(ipynbPlotlyOutputs(executed)).toEqual({ figures: 10, libraries: 1 });
    expect(countPlotlyCopies(ipynbText)).toBe(1);
    expect(countPlotlyCopies(htmlText)).toBe(1);
    const r = await checkPage(browser!, path.join(out, "ten.html"));
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ figures: 10, rendered: 10, missing: [], brokenImages: 0 });
  }, 300_000);
});

describe.skipIf(!haveChromium)("every notebook's HTML export renders offline", () => {
  let runLog = "";
  beforeAll(async () => {
    // execute the notebooks whose report is missing or older than the notebook
    const stale = notebookNames.filter((n) => {
      const html = path.join(reports, `${n}.html`);
      return !existsSync(html) || statSync(html).mtimeMs < statSync(path.join(root, "notebooks", `${n}.ipynb`)).mtimeMs;
    });
    if (stale.length === 0) return;
    console.warn(`browser test: executing ${stale.join(", ")} (no up-to-date report in reports/)`);
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "run_notebooks.mjs"), ...stale], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) runLog = `scripts/run_notebooks.mjs ${stale.join(" ")} failed:\n${`${r.stdout}\n${r.stderr}`.split("\n").slice(-40).join("\n")}`;
  }, 3_600_000);

  it.each(reportNames)("%s: every figure rendered, no console errors, plotly.js at most once", async (name) => {
    const htmlFile = path.join(reports, `${name}.html`);
    const ipynbFile = path.join(reports, `${name}.ipynb`);
    expect(existsSync(htmlFile), `${htmlFile} is missing: the notebook failed to execute\n${runLog}`).toBe(true);
    const expected = existsSync(ipynbFile) ? ipynbPlotlyOutputs(ipynbFile) : null;
    const htmlText = readFileSync(htmlFile, "utf8");
    const r = await checkPage(browser!, htmlFile);
    expect(r.errors).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.brokenImages).toBe(0);
    expect(r.rendered).toBe(r.figures);
    if (expected) {
      expect(r.figures).toBe(expected.figures); // one rendered figure per show() call
      expect(expected.libraries).toBe(expected.figures > 0 ? 1 : 0);
    }
    expect(countPlotlyCopies(htmlText)).toBe(r.figures > 0 ? 1 : 0);
  });
});
