#!/usr/bin/env node
// `npm run lab`: Jupyter on 127.0.0.1 with token auth, opened at notebooks/, with the project kernel
// (as root, with --allow-root, which it says).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { root, jupyterEnv, writeKernelSpec, findJupyter, labArgs } from "./jupyter.mjs";

const { ensureLib } = createRequire(import.meta.url)("./notebook_lib.cjs");

const jupyter = findJupyter();
if (!jupyter) {
  console.error("Jupyter is missing: run `npm run setup` first.");
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
const { args, notes } = labArgs({ extra: process.argv.slice(2) });
for (const n of notes) console.log(n);
console.log(`starting: ${jupyter} ${args.join(" ")}  (token auth on: open the URL with ?token=… printed below)`);
const child = spawn(jupyter, args, { cwd: root, env: jupyterEnv(), stdio: "inherit" });
child.on("exit", (code) => process.exit(code ?? 0));
