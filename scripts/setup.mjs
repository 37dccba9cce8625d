#!/usr/bin/env node
// Installs whatever is missing for matchlab and says what it did: npm dependencies, Jupyter
// (apt-get when root, else pip --user), the project-local kernel spec, the sample dataset.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { root, findJupyter, writeKernelSpec, ensureSample } from "./jupyter.mjs";

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts }).status === 0;
const say = (msg) => console.log(`setup: ${msg}`);

if (!existsSync(path.join(root, "node_modules", "tslab"))) {
  say("installing npm dependencies (npm ci)");
  if (!run("npm", ["ci", "--no-audit", "--no-fund"])) process.exit(1);
} else say("npm dependencies present");

if (!findJupyter()) {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && spawnSync("apt-get", ["--version"]).status === 0) {
    say("installing Jupyter from Debian (apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel)");
    run("apt-get", ["update", "-q"]);
    run("apt-get", ["install", "-y", "-q", "jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "python3-ipykernel"], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } else {
    say("installing Jupyter with pip --user (python3 -m pip install --user notebook nbconvert nbclient)");
    run("python3", ["-m", "pip", "install", "--user", "notebook", "nbconvert", "nbclient"]);
  }
  if (!findJupyter()) {
    console.error("setup: Jupyter is still missing. Install it, e.g. `sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient`, then run `npm run setup` again.");
    process.exit(1);
  }
} else say("Jupyter present");

say(`kernel spec "matchlab (TypeScript)" written to ${path.relative(root, writeKernelSpec())}`);
say(`sample dataset at ${path.relative(root, ensureSample())}`);
