/** `table(df)`: a danfo DataFrame, Series or array of row objects as an HTML table. */
import { displayBundle } from "./display";
import { escapeHtmlText, type MimeBundle } from "./outputs";

/** What {@link table} accepts: a danfo DataFrame or Series (duck-typed), or plain row objects. */
export type TableInput =
  | { columns: readonly string[]; values: readonly unknown[][]; index?: ReadonlyArray<string | number> }
  | { values: readonly unknown[]; index?: ReadonlyArray<string | number>; columns?: readonly string[] }
  | ReadonlyArray<Readonly<Record<string, unknown>>>;

/** Options for {@link table}. */
export interface TableOptions {
  /** The most rows shown; larger tables show the first and last halves around a "…" row. Defaults to 20. */
  maxRows?: number;
  /** Decimal places for non-integer numbers. Defaults to 4. */
  digits?: number;
  /** The most characters of a cell's text. Defaults to 80. */
  maxChars?: number;
  /** Show the index column. Defaults to true. */
  index?: boolean;
  /** A caption above the table. Defaults to none. */
  caption?: string;
}

interface Grid {
  columns: string[];
  index: Array<string | number>;
  rows: unknown[][];
}

function toGrid(input: TableInput): Grid {
  if (Array.isArray(input)) {
    const rows = input as ReadonlyArray<Record<string, unknown>>;
    const columns: string[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      if (r === null || typeof r !== "object") throw new Error("table: expected row objects, a danfo DataFrame or a Series");
      for (const k of Object.keys(r)) {
        if (!seen.has(k)) {
          seen.add(k);
          columns.push(k);
        }
      }
    }
    return { columns, index: rows.map((_, i) => i), rows: rows.map((r) => columns.map((c) => r[c])) };
  }
  const obj = input as { columns?: readonly string[]; values?: readonly unknown[]; index?: ReadonlyArray<string | number> };
  if (!obj || !Array.isArray(obj.values)) throw new Error("table: expected a danfo DataFrame/Series (with .values) or an array of row objects");
  const values = obj.values as unknown[];
  const is2d = values.length > 0 && Array.isArray(values[0]);
  const rows = is2d ? (values as unknown[][]) : values.map((v) => [v]);
  const columns = obj.columns ? [...obj.columns] : ["value"];
  const index = obj.index ? [...obj.index] : rows.map((_, i) => i);
  if (rows.length && rows[0]!.length !== columns.length) throw new Error(`table: ${columns.length} columns but rows have ${rows[0]!.length} values`);
  return { columns, index, rows };
}

/** Formats one cell's value for display (numbers to `digits` places, long text cut with "…"). */
export function formatCell(v: unknown, digits = 4, maxChars = 80): string {
  let s: string;
  if (v === null || v === undefined) s = "";
  else if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) s = String(v);
    else if (Math.abs(v) >= 1e6 || Math.abs(v) < 10 ** -digits) s = v.toExponential(Math.max(1, digits - 1));
    else s = v.toFixed(digits);
  } else if (typeof v === "string") s = v;
  else if (v instanceof Date) s = v.toISOString();
  else if (typeof v === "object") s = JSON.stringify(v);
  else s = String(v);
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}

/** The HTML table (and a text rendering) of a DataFrame/Series/rows; pure. */
export function tableBundle(input: TableInput, opts: TableOptions = {}): MimeBundle {
  const { maxRows = 20, digits = 4, maxChars = 80, index: showIndex = true, caption } = opts;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new Error(`table: maxRows must be a positive integer, got ${maxRows}`);
  const g = toGrid(input);
  const n = g.rows.length;
  const head = n > maxRows ? Math.ceil(maxRows / 2) : n;
  const tail = n > maxRows ? maxRows - head : 0;
  const shown = [...Array.from({ length: head }, (_, i) => i), ...(tail ? [-1] : []), ...Array.from({ length: tail }, (_, i) => n - tail + i)];
  const numeric = g.columns.map((_, j) => g.rows.every((r) => r[j] === null || r[j] === undefined || typeof r[j] === "number"));
  const th = (s: string) => `<th>${escapeHtmlText(s)}</th>`;
  const body = shown
    .map((i) => {
      if (i < 0) return `<tr>${showIndex ? "<th>…</th>" : ""}${g.columns.map(() => "<td>…</td>").join("")}</tr>`;
      const cells = g.rows[i]!.map((v, j) => {
        const text = formatCell(v, digits, maxChars);
        const full = typeof v === "number" ? String(v) : formatCell(v, digits, 100_000);
        const title = full !== text ? ` title="${escapeHtmlText(full)}"` : "";
        return `<td style="text-align:${numeric[j] ? "right" : "left"};white-space:nowrap"${title}>${escapeHtmlText(text)}</td>`;
      });
      return `<tr>${showIndex ? th(String(g.index[i])) : ""}${cells.join("")}</tr>`;
    })
    .join("\n");
  const html =
    `<div class="matchlab-table" style="overflow-x:auto">` +
    (caption ? `<div style="font-weight:600;margin:2px 0">${escapeHtmlText(caption)}</div>` : "") +
    `<table class="dataframe">\n<thead><tr>${showIndex ? "<th></th>" : ""}${g.columns.map(th).join("")}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>` +
    `<div style="color:#666;font-size:0.9em">${n} rows × ${g.columns.length} columns</div></div>`;
  const textRows = shown.map((i) => (i < 0 ? "…" : [showIndex ? String(g.index[i]) : null, ...g.rows[i]!.map((v) => formatCell(v, digits, 30))].filter((x) => x !== null).join("  ")));
  const text = [caption ?? "", [showIndex ? "" : null, ...g.columns].filter((x) => x !== null).join("  "), ...textRows, `[${n} rows × ${g.columns.length} columns]`]
    .filter((l) => l !== "")
    .join("\n");
  return { data: { "text/html": html, "text/plain": text }, metadata: {} };
}

/**
 * Shows a table in the notebook.
 * @example ml.table(df.head(10)); ml.table(rows, { maxRows: 50, digits: 3 })
 */
export function table(input: TableInput, opts: TableOptions = {}): void {
  displayBundle(tableBundle(input, opts));
}
