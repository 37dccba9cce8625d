#!/usr/bin/env node
// Jupyter kernel launcher for matchlab: starts the project's own tslab with the
// project root as the working directory, so notebooks import `./dist/index`, the library build
// (scripts/notebook_lib.cjs), which is rebuilt here first when src/ changed since it was built.
"use strict";
const path = require("node:path");
const root = path.resolve(__dirname, "..");
process.chdir(root);
const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: kernel.cjs <connection_file>");
  process.exit(2);
}
try {
  require("./notebook_lib.cjs").ensureLib(root, { log: (m) => console.error(m) });
} catch (e) {
  // the notebook's import of ./dist/index checks again and refuses with this message
  console.error(e.message);
}
require(path.join(root, "node_modules", "tslab", "dist", "main.js")).startKernel({
  configPath,
  enableFindLocal: false,
  jsKernel: false,
});
