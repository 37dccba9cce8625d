/** What the benches share: flag lists, medians, one child per impl (its JSON lines), the peer's pinned threads. */
import { spawnSync } from "node:child_process";

/** One JSON line of a bench. */
export interface BenchRow {
  bench: string;
  case: string;
  impl: string;
  skipped?: string;
  [k: string]: unknown;
}

/** A comma-separated flag's values, each checked against `valid`. */
export function parseList<T extends string>(s: string, valid: readonly T[], what: string): T[] {
  const out = s.split(",").map((x) => x.trim()).filter(Boolean);
  for (const x of out) if (!(valid as readonly string[]).includes(x)) throw new Error(`unknown ${what}: ${x} (expected ${valid.join("|")})`);
  return out as T[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** max/min of a case's ms over rounds above which it is flagged `busy`. */
export const BUSY_SPREAD = 1.5;

/** Whether a row is the PyTorch peer's. */
export const isPeer = (r: { impl: string }): boolean => r.impl.startsWith("pytorch");

/** The peer's environment: its thread count pinned in its own process (OMP, OpenBLAS, MKL). */
export function pinnedThreadsEnv(threads: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

/** Runs one child (an impl's worker or the peer) and returns the JSON lines it printed; a failure becomes a `skipped` row. */
export function runChild<R extends BenchRow>(bench: string, cmd: string, args: string[], timeoutS: number, label: string, env: NodeJS.ProcessEnv = process.env, caseName = "*"): R[] {
  const r = spawnSync(cmd, args, { cwd: process.cwd(), env, encoding: "utf8", timeout: timeoutS * 1000, maxBuffer: 16 << 20, stdio: ["ignore", "pipe", "inherit"] });
  if (r.error) return [{ bench, case: caseName, impl: label, skipped: `${r.error.message.split("\n")[0]}` } as R];
  const rows: R[] = [];
  for (const line of r.stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      rows.push(JSON.parse(t) as R);
    } catch {
      // a stray log line: ignore
    }
  }
  if (r.status !== 0) rows.push({ bench, case: caseName, impl: label, skipped: r.signal ? `killed by ${r.signal}` : `exit status ${r.status}` } as R);
  return rows;
}
