/**
 * README command blocks for the tests that run them: the lines of the ```sh block between
 * `<!-- NAME:start -->` and `<!-- NAME:end -->` in README.md, and a bash runner from the project root
 * (asynchronous: the test worker must stay responsive), and the sample dataset they run on.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..");

/** The command lines of the README's `NAME` block, in order (blank lines and comments dropped). */
export function readmeBlock(name: string): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = readme.match(new RegExp(`<!-- ${name}:start -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`));
  if (!m) throw new Error(`README.md has no <!-- ${name}:start --> \`\`\`sh … \`\`\` <!-- ${name}:end --> block`);
  return m[1]!
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Runs a command line through bash from the project root. */
export function sh(cmd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", cmd], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The emoji-match sample the README tests run on, built on first use. */
export const SAMPLE = path.join(ROOT, "data", "emoji-match-sample");

/** Builds the sample dataset when it is missing. */
export async function ensureSample(): Promise<void> {
  if (existsSync(path.join(SAMPLE, "train.csv"))) return;
  const r = await sh(`node bin/matchlab.js data --sample --out ${JSON.stringify(SAMPLE)}`, { ...process.env, MATCHLAB_QUIET: "1" });
  if (r.code !== 0) throw new Error(`building the sample failed:\n${r.stderr}`);
}
