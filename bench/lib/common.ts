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

/** A measured row: its ms, and the threads it ran at. */
export interface MeasuredRow extends BenchRow {
  ms?: number;
  threads?: number;
}

const at = (r: MeasuredRow) => `${r.case}/${r.threads}`;

/**
 * One round's ratios: for every row of ours, `field / the peer's field` into `ratio` for each
 * `[field, ratio]` pair, against the fastest peer row (by ms) of the same case and thread count.
 */
export function roundRatios(rows: MeasuredRow[], pairs: readonly (readonly [string, string])[]): void {
  const peer = new Map<string, MeasuredRow>();
  for (const r of rows) {
    if (!isPeer(r) || r.ms === undefined) continue;
    const cur = peer.get(at(r));
    if (!cur || r.ms < cur.ms!) peer.set(at(r), r);
  }
  for (const r of rows) {
    const ref = isPeer(r) ? undefined : peer.get(at(r));
    if (!ref) continue;
    for (const [field, ratio] of pairs) {
      const a = r[field];
      const b = ref[field];
      if (typeof a === "number" && typeof b === "number") r[ratio] = a / b;
    }
  }
}

/**
 * The rounds folded into one line per measurement, in first-round order: `fields` as medians over the
 * rounds that measured them (dropped when none did), `ms_rounds`, `ms_min` (the fastest round), `busy`
 * when the rounds spread more than {@link BUSY_SPREAD}, and `ratio_min` = ms_min / the peer's best round
 * at the same case and thread count. Skipped or unmeasured lines pass unchanged.
 */
export function summariseRounds<R extends MeasuredRow>(perRound: R[][], fields: readonly string[]): R[] {
  const key = (r: R) => `${r.case}/${r.impl}/${r.threads}`;
  const round2 = (x: number) => +x.toFixed(2);
  const peerBest = new Map<string, number>();
  for (const r of perRound.flat()) if (isPeer(r) && r.ms !== undefined) peerBest.set(at(r), Math.min(peerBest.get(at(r)) ?? Number.POSITIVE_INFINITY, r.ms));
  return perRound[0]!.map((first) => {
    if (first.skipped !== undefined || first.ms === undefined) return first;
    const same = perRound.map((rows) => rows.find((r) => key(r) === key(first))).filter((r): r is R => r !== undefined);
    const msRounds = same.map((r) => round2(r.ms!));
    const msMin = Math.min(...msRounds);
    const out: R = { ...first, rounds: same.length, ms_rounds: msRounds, ms_min: msMin };
    for (const k of fields) {
      const xs = same.map((r) => r[k]).filter((x): x is number => typeof x === "number");
      if (xs.length) (out as MeasuredRow)[k] = round2(median(xs));
      else delete (out as MeasuredRow)[k];
    }
    if (msRounds.length > 1 && Math.max(...msRounds) / msMin > BUSY_SPREAD) (out as MeasuredRow).busy = true;
    const best = peerBest.get(at(first));
    if (!isPeer(first) && best !== undefined) (out as MeasuredRow).ratio_min = round2(msMin / best);
    return out;
  });
}
