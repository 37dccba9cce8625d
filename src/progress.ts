/**
 * Progress reporting for long work, free of tslab: lower layers call `progress()`, and the
 * renderer decides how it looks. The terminal renderer redraws one line on a TTY and prints a
 * line every 10% elsewhere; `src/notebook` installs a renderer that updates a cell in place.
 */
import { env } from "./env";

/** One progress bar's state, handed to a renderer. */
export interface ProgressState {
  label: string;
  done: number;
  /** Total units, or 0 when unknown. */
  total: number;
  /** Milliseconds since the bar started. */
  elapsedMs: number;
  /** Free-form extra text (for example the current loss). */
  note: string;
  finished: boolean;
}

/** Draws progress; `update` is called at most every `minIntervalMs` and once when finished. */
export interface ProgressRenderer {
  update(state: ProgressState): void;
}

/** A running progress bar. */
export interface ProgressBar {
  /** Adds `n` done units (default 1) and an optional note. */
  tick(n?: number, note?: string): void;
  /** Sets the note shown after the bar. */
  note(text: string): void;
  /** Marks the work finished and draws the final state. */
  finish(note?: string): void;
}

/** Options for {@link progress}. */
export interface ProgressOptions {
  /** What is being done. Defaults to "working". */
  label?: string;
  /** The total number of units; 0 for unknown. Defaults to 0. */
  total?: number;
  /** The least time between redraws. Defaults to 200 ms. */
  minIntervalMs?: number;
  /** The renderer. Defaults to the current one (see {@link setProgressRenderer}); none when `env.progress` is false. */
  renderer?: ProgressRenderer | null;
  /** The clock, injectable for tests. Defaults to `Date.now`. */
  now?: () => number;
}

/** Formats milliseconds as `1h02m`, `3m05s` or `4.2s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** The line a text renderer shows: `label  42% |████░░░░| 420/1000 [3.1s<4.2s] note`. */
export function formatProgress(s: ProgressState, width = 24): string {
  const rate = s.elapsedMs > 0 ? s.done / (s.elapsedMs / 1000) : 0;
  const rateText = rate > 0 ? `, ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s` : "";
  if (s.total > 0) {
    const frac = Math.min(1, s.done / s.total);
    const full = Math.round(frac * width);
    const eta = s.done > 0 ? (s.elapsedMs / s.done) * (s.total - s.done) : Number.NaN;
    const time = s.finished ? formatDuration(s.elapsedMs) : `${formatDuration(s.elapsedMs)}<${formatDuration(eta)}`;
    return `${s.label} ${String(Math.round(frac * 100)).padStart(3)}% |${"█".repeat(full)}${"░".repeat(width - full)}| ${s.done}/${s.total} [${time}${rateText}]${s.note ? ` ${s.note}` : ""}`;
  }
  return `${s.label} ${s.done} [${formatDuration(s.elapsedMs)}${rateText}]${s.note ? ` ${s.note}` : ""}`;
}

/** Writes to stderr: redraws one line on a TTY, else a line at each 10% step and at the end. */
export function terminalRenderer(stream: NodeJS.WriteStream = process.stderr): ProgressRenderer {
  let lastDecile = -1;
  return {
    update(s) {
      const line = formatProgress(s);
      if (stream.isTTY) {
        stream.write(`\r${line}\x1b[K${s.finished ? "\n" : ""}`);
        return;
      }
      const decile = s.total > 0 ? Math.floor((10 * s.done) / s.total) : -1;
      if (s.finished || decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${line}\n`);
      }
    },
  };
}

let current: () => ProgressRenderer = () => terminalRenderer();

/** Installs the factory for the default renderer (the notebook module does this). Returns the previous one. */
export function setProgressRenderer(factory: () => ProgressRenderer): () => ProgressRenderer {
  const prev = current;
  current = factory;
  return prev;
}

/**
 * Starts a progress bar.
 * @example
 * const bar = progress({ label: "embed", total: rows.length });
 * for (const r of rows) { work(r); bar.tick(); }
 * bar.finish();
 */
export function progress(opts: ProgressOptions = {}): ProgressBar {
  const { label = "working", total = 0, minIntervalMs = 200, now = Date.now } = opts;
  const renderer = opts.renderer !== undefined ? opts.renderer : env.progress ? current() : null;
  const start = now();
  const state: ProgressState = { label, done: 0, total, elapsedMs: 0, note: "", finished: false };
  let last = Number.NEGATIVE_INFINITY;
  const draw = (force: boolean) => {
    const t = now();
    if (!renderer || (!force && t - last < minIntervalMs)) return;
    last = t;
    state.elapsedMs = t - start;
    renderer.update({ ...state });
  };
  return {
    tick(n = 1, note) {
      state.done += n;
      if (note !== undefined) state.note = note;
      draw(false);
    },
    note(text) {
      state.note = text;
      draw(false);
    },
    finish(note) {
      if (state.finished) return;
      if (note !== undefined) state.note = note;
      state.finished = true;
      draw(true);
    },
  };
}
