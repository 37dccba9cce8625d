#!/usr/bin/env node
// Builds notebooks/*.ipynb from their sources in notebooks/src/*.ts (the "percent" format:
// cells start with `// %%`, markdown cells with `// %% [markdown]` and `// ` line prefixes).
// The .ipynb files are generated, committed without outputs, and opened in Jupyter as usual.
// usage: node scripts/nbgen.mjs [--check] [names…]
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const srcDir = path.join(root, "notebooks", "src");
const args = process.argv.slice(2);
const check = args.includes("--check");
const names = args.filter((a) => !a.startsWith("--"));

export function toNotebook(text) {
  const cells = [];
  let cur = null;
  const flush = () => {
    if (!cur) return;
    while (cur.lines.length && cur.lines[cur.lines.length - 1].trim() === "") cur.lines.pop();
    while (cur.lines.length && cur.lines[0].trim() === "") cur.lines.shift();
    if (cur.lines.length) {
      const source = cur.lines.map((l, i) => (i < cur.lines.length - 1 ? `${l}\n` : l));
      const id = `c${String(cells.length).padStart(2, "0")}`;
      cells.push(
        cur.kind === "markdown"
          ? { cell_type: "markdown", id, metadata: {}, source }
          : { cell_type: "code", execution_count: null, id, metadata: {}, outputs: [], source },
      );
    }
    cur = null;
  };
  for (const line of text.split("\n")) {
    const m = /^\/\/ %%(.*)$/.exec(line);
    if (m) {
      flush();
      cur = { kind: m[1].includes("[markdown]") ? "markdown" : "code", lines: [] };
      continue;
    }
    if (!cur) {
      if (line.trim() === "") continue;
      cur = { kind: "code", lines: [] };
    }
    cur.lines.push(cur.kind === "markdown" ? line.replace(/^\/\/ ?/, "") : line);
  }
  flush();
  return {
    cells,
    metadata: {
      kernelspec: { display_name: "matchlab (TypeScript)", language: "typescript", name: "matchlab" },
      language_info: { file_extension: ".ts", mimetype: "text/typescript", name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

if (existsSync(srcDir)) {
  let stale = 0;
  for (const f of readdirSync(srcDir).filter((f) => f.endsWith(".ts")).sort()) {
    const base = f.replace(/\.ts$/, "");
    if (names.length && !names.some((n) => base.startsWith(n))) continue;
    const out = path.join(root, "notebooks", `${base}.ipynb`);
    const json = `${JSON.stringify(toNotebook(readFileSync(path.join(srcDir, f), "utf8")), null, 1)}\n`;
    if (check) {
      if (!existsSync(out) || readFileSync(out, "utf8") !== json) {
        console.error(`stale: notebooks/${base}.ipynb (run node scripts/nbgen.mjs)`);
        stale++;
      }
    } else {
      writeFileSync(out, json);
      console.log(`wrote notebooks/${base}.ipynb`);
    }
  }
  if (stale) process.exit(1);
}
