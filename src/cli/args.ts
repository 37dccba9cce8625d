/** Shared flag parsing for the CLI commands: strict, with errors that name the flag. */
import { parseArgs } from "node:util";

/** A flag's declaration: its type, optional short alias and default, and one line of help. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
  help: string;
}

/** Parsed flags plus positionals. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Formats `--help` text for a command. */
export function helpText(name: string, summary: string, flags: Record<string, FlagSpec>): string {
  const lines = Object.entries(flags).map(([k, f]) => {
    const arg = f.type === "string" ? ` <${k}>` : "";
    const def = f.default !== undefined ? ` (default: ${String(f.default)})` : "";
    return `  --${k}${arg}  ${f.help}${def}`;
  });
  return `usage: matchlab ${name} [options]\n\n${summary}\n\noptions:\n${lines.join("\n")}\n  --help  show this help`;
}

/**
 * Parses argv against `flags`. Unknown flags throw an error that lists the known ones.
 * Returns null when --help was asked for (after printing the help).
 */
export function parseFlags(
  name: string,
  summary: string,
  flags: Record<string, FlagSpec>,
  argv: string[],
): Parsed | null {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText(name, summary, flags));
    return null;
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }> = {};
  for (const [k, f] of Object.entries(flags)) {
    options[k] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as Parsed["values"], positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\nknown options: ${Object.keys(flags).map((k) => `--${k}`).join(", ")}`);
  }
}

/** Reads a required string flag, or throws naming it. */
export function required(p: Parsed, key: string): string {
  const v = p.values[key];
  if (typeof v !== "string" || v === "") throw new Error(`--${key} is required`);
  return v;
}

/** Reads an integer flag, throwing when it is not one. */
export function intFlag(p: Parsed, key: string, fallback: number): number {
  const v = p.values[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${key} must be an integer, got ${String(v)}`);
  return n;
}
