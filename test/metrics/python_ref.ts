/** Test helper: runs a Python snippet under /usr/bin/python3 with JSON on stdin, returns its JSON stdout. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const PYTHON = "/usr/bin/python3";

/** Whether /usr/bin/python3 can import `module`; the reason when it cannot. */
export function pythonHas(module: string): { ok: boolean; why: string } {
  if (!existsSync(PYTHON)) return { ok: false, why: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ["-c", `import ${module}`], { encoding: "utf8" });
  return r.status === 0 ? { ok: true, why: "" } : { ok: false, why: `${PYTHON} cannot import ${module}: ${r.stderr.trim().split("\n").pop()}` };
}

/** Runs `code` (which reads `inp` and must print JSON) and parses its output. */
export function runPython<T>(code: string, input: unknown): T {
  const script = `import json, sys\ninp = json.load(sys.stdin)\n${code}`;
  const r = spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
