import { afterEach, describe, expect, it } from "vitest";
import { countsChart } from "../../src/plots/index";
import {
  countPlotlyCopies,
  escapeHtmlText,
  figureBundle,
  type MimeBundle,
  PLOTLY_MIME,
  plotlyInjector,
  plotlyLibraryBundle,
  scriptJson,
} from "../../src/notebook/outputs";
import { liveDisplay, setDisplaySink } from "../../src/notebook/display";
import { PLOTLY_SIGNATURE } from "../../src/notebook/plotly_source";
import { show, showPlotlyLibrary } from "../../src/notebook/show";
import { progressBundle } from "../../src/notebook/progress_bar";
import { progress } from "../../src/progress";

const fakeLibrary = () => ({ source: `/*! ${PLOTLY_SIGNATURE} v0 */ window.Plotly = {};`, version: "0.0.0" });

afterEach(() => setDisplaySink(null));

describe("figure and library bundles", () => {
  it("a figure carries html (div + waiting script), plotly json and text, and no library", () => {
    const fig = countsChart({ a: 2, b: 1 }, { title: "t" });
    const b = figureBundle(fig, { id: "f1" });
    const html = b.data["text/html"] as string;
    expect(html).toContain('<div id="f1" class="matchlab-figure"');
    expect(html).toContain("window.Plotly.newPlot");
    expect(b.data[PLOTLY_MIME]).toEqual(JSON.parse(JSON.stringify({ data: fig.data, layout: fig.layout, config: fig.config })));
    expect(b.data["text/plain"]).toBe('<Figure "t": 1 trace (bar)>');
    expect(countPlotlyCopies(html)).toBe(0);
    expect(figureBundle(fig, { id: "f2", plotlyMime: false }).data[PLOTLY_MIME]).toBeUndefined();
    expect(() => figureBundle({} as never, { id: "x" })).toThrow(/expected a figure/);
  });

  it("user text cannot close the script element", () => {
    const fig = countsChart({ "</script><script>alert(1)</script>": 1 });
    const html = figureBundle(fig, { id: "f" }).data["text/html"] as string;
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(scriptJson({ s: "</script> & <!-- \u2028" })).toBe('{"s":"\\u003c/script\\u003e \\u0026 \\u003c!-- \\u2028"}');
    expect(JSON.parse(scriptJson({ s: "</script> & <!-- \u2028" }))).toEqual({ s: "</script> & <!-- \u2028" });
    expect(escapeHtmlText(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("the library bundle shadows module/exports/define so require.js pages still get window.Plotly", () => {
    const b = plotlyLibraryBundle("SRC", "3.7.0");
    const html = b.data["text/html"] as string;
    expect(html).toContain("(function (module, exports, define) {\nSRC\n}).call(window);");
    expect(html).toContain("if (!(window.Plotly && window.Plotly.newPlot))");
    expect(b.metadata).toEqual({ matchlab: { plotly: "library", version: "3.7.0" } });
  });
});

describe("plotly.js is injected once per session", () => {
  it("first figure: library + figure; later figures: figure only; reset: library again", () => {
    let loads = 0;
    const inj = plotlyInjector(() => {
      loads++;
      return fakeLibrary();
    }, "abcd");
    const fig = countsChart({ a: 1 });
    const kinds = (bs: MimeBundle[]) => bs.map((b) => (b.metadata.matchlab as { plotly: string }).plotly);
    expect(kinds(inj.bundles(fig))).toEqual(["library", "figure"]);
    for (let i = 0; i < 9; i++) expect(kinds(inj.bundles(fig))).toEqual(["figure"]);
    expect(loads).toBe(1);
    inj.reset();
    const again = inj.bundles(fig);
    expect(kinds(again)).toEqual(["library", "figure"]);
    // ids are unique per session
    expect((again[1]!.metadata.matchlab as { id: string }).id).toBe("mlfig-abcd-11");
  });

  it("show() through a sink: ten figures carry the real plotly.js exactly once", () => {
    const shown: MimeBundle[] = [];
    setDisplaySink({ display: (b) => shown.push(b) });
    const session = (globalThis as Record<symbol, { plotly?: { reset(): void } }>)[Symbol.for("matchlab.notebook.session")];
    session?.plotly?.reset();
    for (let i = 0; i < 10; i++) show(countsChart({ a: i + 1 }));
    expect(shown).toHaveLength(11);
    const all = JSON.stringify(shown);
    expect(countPlotlyCopies(all)).toBe(1);
    expect(shown[0]!.data["text/html"] as string).toMatch(/plotly|Plotly/);
    expect((shown[0]!.data["text/html"] as string).length).toBeGreaterThan(1_000_000);
    showPlotlyLibrary();
    expect(countPlotlyCopies(JSON.stringify(shown))).toBe(2);
  });
});

describe("in-place displays", () => {
  it("a live display shows once, then updates the same display id", () => {
    const calls: Array<[string | undefined, boolean | undefined]> = [];
    setDisplaySink({ display: (_b, id, update) => calls.push([id, update]) });
    const d = liveDisplay();
    d.update({ data: { "text/plain": "a" }, metadata: {} });
    d.update({ data: { "text/plain": "b" }, metadata: {} });
    expect(calls[0]![1]).toBe(false);
    expect(calls[1]![1]).toBe(true);
    expect(calls[0]![0]).toBe(calls[1]![0]);
  });

  it("the notebook progress renderer draws a bar and the text line", () => {
    const b = progressBundle({ label: "embed <x>", done: 5, total: 10, elapsedMs: 1000, note: "loss 0.5", finished: false });
    expect(b.data["text/html"]).toContain("width:50%");
    expect(b.data["text/html"]).toContain("embed &lt;x&gt;");
    expect(b.data["text/plain"]).toMatch(/^embed <x> {2}50% \|/);
  });

  it("progress() with the notebook renderer updates one display in place", async () => {
    const { notebookProgressRenderer } = await import("../../src/notebook/progress_bar");
    const calls: Array<[string | undefined, boolean | undefined, string]> = [];
    setDisplaySink({ display: (b, id, update) => calls.push([id, update, String(b.data["text/plain"])]) });
    let t = 0;
    const bar = progress({ label: "work", total: 3, renderer: notebookProgressRenderer(), minIntervalMs: 0, now: () => (t += 100) });
    bar.tick();
    bar.tick();
    bar.tick();
    bar.finish();
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(new Set(calls.map((c) => c[0])).size).toBe(1);
    expect(calls.slice(1).every((c) => c[1] === true)).toBe(true);
    expect(calls.at(-1)![2]).toMatch(/100% .* 3\/3/);
  });
});
