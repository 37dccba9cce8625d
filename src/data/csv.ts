/**
 * RFC 4180 CSV reading and formatting: quoted fields, doubled quotes, commas and newlines inside
 * quotes, CRLF or LF line ends, a UTF-8 byte-order mark. Errors name the line they found. Files
 * are written with src/fs_atomic's `writeFileAtomic`.
 */

/** Thrown by {@link parseCsv} (and by readers of a CSV's columns): the message names the file, the line and what was expected. */
export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsvError";
  }
}

/** A parsed CSV: the header and the data rows, each with the 1-based line it started on. */
export interface CsvTable {
  header: string[];
  rows: string[][];
  /** For each data row, the 1-based line number in the file where it starts. */
  lines: number[];
}

/** Parses CSV text (first record is the header). Throws on an unterminated quote or a stray quote. */
export function parseCsv(text: string, file = "<csv>"): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const starts: number[] = [];
  let field = "";
  let rec: string[] = [];
  let line = 1;
  let recLine = 1;
  let i = 0;
  const n = text.length;
  let atFieldStart = true;
  while (i < n) {
    const c = text[i]!;
    if (atFieldStart && c === '"') {
      // quoted field
      i++;
      const qLine = line;
      for (;;) {
        if (i >= n) throw new CsvError(`${file}:${qLine}: unterminated quoted field (a field opened with " must close with ")`);
        const d = text[i]!;
        if (d === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === "\n") line++;
        field += d;
        i++;
      }
      const e = text[i];
      if (e !== undefined && e !== "," && e !== "\n" && e !== "\r") {
        throw new CsvError(`${file}:${line}: unexpected character ${JSON.stringify(e)} after a closing quote (quotes inside a quoted field must be doubled: "")`);
      }
      atFieldStart = false;
      continue;
    }
    if (c === ",") {
      rec.push(field);
      field = "";
      atFieldStart = true;
      i++;
      continue;
    }
    if (c === "\r" || c === "\n") {
      rec.push(field);
      field = "";
      if (!(rec.length === 1 && rec[0] === "")) {
        records.push(rec);
        starts.push(recLine);
      }
      rec = [];
      if (c === "\r" && text[i + 1] === "\n") i++;
      i++;
      line++;
      recLine = line;
      atFieldStart = true;
      continue;
    }
    if (c === '"') throw new CsvError(`${file}:${line}: stray quote inside an unquoted field (quote the whole field and double inner quotes)`);
    field += c;
    atFieldStart = false;
    i++;
  }
  if (!atFieldStart || field !== "" || rec.length > 0) {
    rec.push(field);
    if (!(rec.length === 1 && rec[0] === "")) {
      records.push(rec);
      starts.push(recLine);
    }
  }
  if (records.length === 0) throw new CsvError(`${file}: empty CSV (expected a header line)`);
  const header = records[0]!.map((h) => h.trim());
  return { header, rows: records.slice(1), lines: starts.slice(1) };
}

/** Quotes one CSV field when it holds a comma, quote, CR or LF. */
export function csvField(v: string | number | boolean | null | undefined): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Formats a header and rows as CSV text (LF line ends, trailing newline). */
export function formatCsv(header: readonly string[], rows: Iterable<ReadonlyArray<string | number | boolean | null | undefined>>): string {
  const out = [header.map(csvField).join(",")];
  for (const r of rows) out.push(r.map(csvField).join(","));
  return `${out.join("\n")}\n`;
}
