#!/usr/bin/env node
// `npm run bench -- <name> [args…]`: runs bench/<name>.ts, which prints one JSON line per measurement.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const [name, ...rest] = process.argv.slice(2);
const benches = readdirSync(path.join(root, "bench")).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, "").replaceAll("_", "-"));
if (!name || !benches.includes(name)) {
  console.error(`usage: npm run bench -- <name>\nbenches: ${benches.join(", ")}`);
  process.exit(name ? 2 : 0);
}
const file = path.join(root, "bench", `${name.replaceAll("-", "_")}.ts`);
if (!existsSync(file)) process.exit(2);
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
