/** Runs `matchlab` in a child process from the project root (asynchronously, so the test worker stays responsive). */
import { spawn } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** What a child `matchlab` printed and how it ended. */
export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `matchlab <args>` with MATCHLAB_QUIET set and `env` added. */
export function matchlabCli(args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "matchlab.js"), ...args], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
