import { vi } from "vitest";
import { main } from "../../src/cli/main";

/**
 * Runs `matchlab <argv>` in this process (the same `main` as bin/matchlab.js) and returns its exit code
 * with what it printed: console.log as `out`, console.error and console.warn as `err`.
 */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  const warn = vi.spyOn(console, "warn").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
    warn.mockRestore();
  }
}
