#!/usr/bin/env node
// Jupyter kernel launcher for matchlab: starts the project's own tslab with the
// project root as the working directory, so notebooks import `./src/index`.
"use strict";
const path = require("node:path");
const root = path.resolve(__dirname, "..");
process.chdir(root);
const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: kernel.cjs <connection_file>");
  process.exit(2);
}
require(path.join(root, "node_modules", "tslab", "dist", "main.js")).startKernel({
  configPath,
  enableFindLocal: false,
  jsKernel: false,
});
