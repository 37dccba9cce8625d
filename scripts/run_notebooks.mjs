#!/usr/bin/env node
// Executes notebooks headless through the real Jupyter client (nbconvert → nbclient) with the
// project kernel, on the sample dataset; writes executed copies and HTML to reports/, and
// reports/index.html linking them.
// usage: node scripts/run_notebooks.mjs [--test] [--full] [names or paths…]
//   --test  print a "N passed, N failed" line and exit non-zero when any notebook fails
//   --full  run on the full dataset (data/emoji-match) instead of the sample
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { root, jupyterEnv, writeKernelSpec, findJupyter, ensureSample, KERNEL } from "./jupyter.mjs";

const { ensureLib } = createRequire(import.meta.url)("./notebook_lib.cjs");
import { HTML_FLAGS } from "./html_export.mjs";

const args = process.argv.slice(2);
const test = args.includes("--test");
const full = args.includes("--full");
const wanted = args.filter((a) => !a.startsWith("--")).map((a) => path.basename(a).replace(/\.ipynb$/, ""));
const nbDir = path.join(root, "notebooks");
const reports = path.join(root, "reports");

/** nbconvert flags for the HTML export: offline, no CDN require.js/MathJax (see html_export.mjs). */
export { HTML_FLAGS };

const jupyter = findJupyter();
if (!jupyter) {
  console.error("Jupyter with nbconvert is missing: run `npm run setup` (or apt-get install jupyter-nbconvert python3-nbclient)");
  process.exit(1);
}
writeKernelSpec();
// the library build notebooks import (dist/): built now rather than inside the first kernel's start
try {
  ensureLib(root, { log: (m) => console.log(m) });
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
const dataset = full ? path.join(root, "data", "emoji-match") : ensureSample();
const notebooks = readdirSync(nbDir)
  .filter((f) => f.endsWith(".ipynb"))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
if (notebooks.length === 0) {
  console.error(`no notebooks match ${wanted.join(", ")}`);
  process.exit(1);
}
mkdirSync(reports, { recursive: true });
const env = jupyterEnv({ MATCHLAB_DATASET: dataset, MATCHLAB_QUIET: "1" });
const results = [];
for (const f of notebooks) {
  const t0 = Date.now();
  const name = f.replace(/\.ipynb$/, "");
  process.stdout.write(`▶ ${name} … `);
  const exec = spawnSync(
    jupyter,
    ["nbconvert", "--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL}`,
      "--ExecutePreprocessor.timeout=900", "--output-dir", reports, path.join(nbDir, f)],
    { cwd: root, env, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  let ok = exec.status === 0;
  let detail = ok ? "" : `${exec.stderr}\n${exec.stdout}`.trim();
  if (ok) {
    const html = spawnSync(jupyter, ["nbconvert", ...HTML_FLAGS, "--output-dir", reports, path.join(reports, f)], {
      cwd: root, env, encoding: "utf8", maxBuffer: 64 << 20,
    });
    if (html.status !== 0) {
      ok = false;
      detail = `HTML export failed:\n${html.stderr}`;
    }
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(ok ? `ok (${secs} s)` : `FAILED (${secs} s)`);
  if (!ok) console.log(detail.split("\n").slice(-60).join("\n"));
  results.push({ name, ok, secs });
}
// The index lists every notebook ever run here; this run's results replace earlier ones.
const statusFile = path.join(reports, "status.json");
const status = existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, "utf8")) : {};
const when = new Date().toISOString();
for (const r of results) status[r.name] = { ...r, when, dataset: path.relative(root, dataset) };
writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
const rows = Object.values(status)
  .sort((a, b) => a.name.localeCompare(b.name))
  .map((r) => `<li>${r.ok ? "✅" : "❌"} <a href="${r.name}.html">${r.name}</a> (<a href="${r.name}.ipynb">ipynb</a>, ${r.secs} s, ${r.when} on ${r.dataset})</li>`)
  .join("\n");
writeFileSync(
  path.join(reports, "index.html"),
  `<!doctype html><meta charset="utf-8"><title>matchlab reports</title>\n<h1>matchlab notebooks</h1>\n<ul>\n${rows}\n</ul>\n`,
);
const failed = results.filter((r) => !r.ok).length;
console.log(`reports: ${path.relative(process.cwd(), path.join(reports, "index.html"))}`);
if (!test) console.log("open Jupyter with: npm run lab");
if (test) console.log(`notebooks: ${results.length - failed} passed, ${failed} failed`);
if (!existsSync(path.join(reports, "index.html")) || failed) process.exit(1);
