/**
 * The one config engine: a schema is a tree of sections whose leaves carry a type, a default, the
 * allowed values and one line of doc. `resolveConfig` validates a parsed YAML object against it and
 * fills in every default; `setConfigKey` sets one dotted key from command-line text, parsed by the
 * leaf's type. Unknown keys, bad values and wrong types throw a {@link ConfigError} that names the
 * file, the key and what would be right. Keys are matched as own properties only, so `constructor:`
 * or `toString:` are unknown keys like any other.
 *
 * Written by hand rather than on a schema library: the engine is mostly what such a library leaves
 * to the caller (per-key docs and defaults for `--help`, parsing a flag's text by the key's type,
 * "expected one of a|b|c" from the registries, dotted overrides), in about 200 lines.
 */
import { existsSync, readFileSync } from "node:fs";
import yaml from "js-yaml";

/** A leaf of a schema: a typed value with its default and one line of doc. */
export type Leaf =
  | { type: "int"; default: number; min?: number; max?: number; doc: string }
  | { type: "number"; default: number; min?: number; max?: number; doc: string }
  | { type: "string"; default: string; doc: string }
  | { type: "bool"; default: boolean; doc: string }
  | { type: "enum"; default: string; values: readonly string[]; doc: string }
  | { type: "int[]"; default: number[]; doc: string }
  | {
      type: "custom";
      default: unknown;
      doc: string;
      /** What is allowed, for error messages ("a list of …"). */
      allowed: string;
      /** Validates (and may normalise) a value; throws a ConfigError naming `key` and `where`. */
      check(value: unknown, key: string, where: string): unknown;
    };

/** A section: named leaves and subsections. */
export interface Section {
  readonly [key: string]: Leaf | Section;
}

/** Thrown for a bad config; the message names the file (or flag), the key and what is allowed. */
export class ConfigError extends Error {
  /** The dotted key at fault, when one is. */
  readonly key: string | undefined;
  constructor(message: string, key?: string) {
    super(message);
    this.name = "ConfigError";
    this.key = key;
  }
}

/** Whether a schema node is a leaf. */
export const isLeaf = (x: Leaf | Section): x is Leaf => typeof (x as Leaf).type === "string" && typeof (x as Leaf).doc === "string";
/** Whether a value is a plain map (not null, not an array). */
export const isMap = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const own = (o: object, k: string) => Object.hasOwn(o, k);

/** What a leaf allows, as text for error messages. */
export function allowedText(l: Leaf): string {
  switch (l.type) {
    case "enum":
      return `one of ${l.values.join("|")}`;
    case "int":
    case "number": {
      const kind = l.type === "int" ? "an integer" : "a number";
      const range = l.min !== undefined && l.max !== undefined ? ` in [${l.min}, ${l.max}]` : l.min !== undefined ? ` >= ${l.min}` : l.max !== undefined ? ` <= ${l.max}` : "";
      return `${kind}${range}`;
    }
    case "string":
      return "a string";
    case "bool":
      return "true|false";
    case "int[]":
      return "a non-empty list of positive integers";
    case "custom":
      return l.allowed;
  }
}

/** Validates one leaf value; throws naming `key` and `where`. */
export function checkLeaf(key: string, l: Leaf, v: unknown, where: string): unknown {
  const bad = () => new ConfigError(`${where}: bad value for ${key}: ${JSON.stringify(v)} (expected ${allowedText(l)})`, key);
  switch (l.type) {
    case "int":
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v) || (l.type === "int" && !Number.isInteger(v))) throw bad();
      if ((l.min !== undefined && v < l.min) || (l.max !== undefined && v > l.max)) throw bad();
      return v;
    case "string":
      if (typeof v !== "string") throw bad();
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "enum":
      if (typeof v !== "string" || !l.values.includes(v)) throw bad();
      return v;
    case "int[]":
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1)) throw bad();
      return [...v];
    case "custom":
      return l.check(v, key, where);
  }
}

/** An error for a key that the section does not have, listing the ones it has. */
export function unknownKey(where: string, dotted: string, known: readonly string[]): ConfigError {
  return new ConfigError(`${where}: unknown key ${dotted} (expected one of ${known.join("|")})`, dotted);
}

/**
 * Validates `value` against a section and fills in every default (a deep copy; `value` is not changed).
 * @example resolveSection({ lr: { type: "number", default: 1e-3, min: 0, doc: "learning rate" } }, { lr: 3e-4 }, "run.yaml") // { lr: 3e-4 }
 */
export function resolveSection(schema: Section, value: unknown, where: string, prefix = ""): Record<string, unknown> {
  if (value !== undefined && value !== null && !isMap(value)) throw new ConfigError(`${where}: ${prefix ? prefix.slice(0, -1) : "the config"} must be a map, got ${JSON.stringify(value)}`, prefix.slice(0, -1) || undefined);
  const v = (value ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!own(schema, k)) throw unknownKey(where, `${prefix}${k}`, Object.keys(schema));
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema)) {
    const given = own(v, k) ? v[k] : undefined;
    if (isLeaf(s)) out[k] = given === undefined ? structuredClone(s.default) : checkLeaf(`${prefix}${k}`, s, given, where);
    else out[k] = resolveSection(s, given, where, `${prefix}${k}.`);
  }
  return out;
}

/** The leaf at a dotted key, or null when there is none (a section, or no such key). */
export function leafAt(schema: Section, dotted: string): Leaf | null {
  let s: Leaf | Section = schema;
  for (const k of dotted.split(".")) {
    if (isLeaf(s) || !own(s, k)) return null;
    s = s[k]!;
  }
  return isLeaf(s) ? s : null;
}

/** Every dotted leaf key of a schema, in schema order. */
export function leafKeys(schema: Section, prefix = ""): string[] {
  return Object.entries(schema).flatMap(([k, v]) => (isLeaf(v) ? [`${prefix}${k}`] : leafKeys(v, `${prefix}${k}.`)));
}

/** Parses command-line text for a leaf: numbers, true|false, lists and maps as YAML, strings as they are (text that does not parse is returned as is, for the error). */
export function parseLeafText(l: Leaf, text: string): unknown {
  switch (l.type) {
    case "int":
    case "number": {
      const v = text.trim() === "" ? Number.NaN : Number(text);
      return Number.isNaN(v) ? text : v; // the text itself, so the error quotes what was typed
    }
    case "bool":
      return text === "true" || text === "" ? true : text === "false" ? false : text;
    case "string":
    case "enum":
      return text;
    default:
      try {
        return yaml.load(text);
      } catch {
        return text;
      }
  }
}

/**
 * A copy of `config` with one dotted key set to `value` (command-line text is parsed by the key's
 * type first), validated like the file. Throws naming `where` (the flag) and the key.
 * @example setConfigKey(SCHEMA, cfg, "optim.lr", "3e-4", "--lr")
 */
export function setConfigKey<T>(schema: Section, config: T, dotted: string, value: string | { value: unknown }, where = "--set"): T {
  const leaf = leafAt(schema, dotted);
  if (!leaf) throw unknownKey(where, dotted, leafKeys(schema));
  const v = typeof value === "string" ? parseLeafText(leaf, value) : value.value;
  const out = structuredClone(config) as Record<string, unknown>;
  const keys = dotted.split(".");
  let t = out;
  for (const k of keys.slice(0, -1)) t = t[k] as Record<string, unknown>;
  t[keys[keys.length - 1]!] = checkLeaf(dotted, leaf, v, where);
  return out as T;
}

/**
 * Parses `key=value[,key=value…]` (the `--set` flag) into pairs; throws on a part without `=`.
 * @example parseAssignments("optim.lr=3e-4,seed=1") // [["optim.lr", "3e-4"], ["seed", "1"]]
 */
export function parseAssignments(text: string, where = "--set"): [string, string][] {
  // split on the commas between assignments, not those inside a value's brackets, braces or quotes
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts
    .filter((kv) => kv.trim() !== "")
    .map((kv) => {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new ConfigError(`${where}: expected key=value, got ${JSON.stringify(kv)}`);
      return [kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()];
    });
}

/** Reads and parses a YAML file; read and parse errors become ConfigErrors naming the file. */
export function readYaml(file: string): unknown {
  if (!existsSync(file)) throw new ConfigError(`config file not found: ${file} (expected a YAML file, e.g. configs/quick.yaml)`);
  try {
    return yaml.load(readFileSync(file, "utf8"));
  } catch (e) {
    if (e instanceof yaml.YAMLException && e.mark) {
      throw new ConfigError(`${file}:${e.mark.line + 1}:${e.mark.column + 1}: YAML syntax error: ${e.reason} (expected valid YAML)${e.mark.snippet ? `\n${e.mark.snippet}` : ""}`);
    }
    throw new ConfigError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A resolved config as YAML (for runs/<id>/config.yaml). */
export function configToYaml(c: unknown): string {
  return yaml.dump(c, { lineWidth: 120, noRefs: true });
}
