/**
 * Title text: Unicode normalisation (NFKC), case folding, numbers to words or digits (the notes'
 * `number_to_str`), tokenisation through transformers.js tokenizers built from a local
 * tokenizer.json (offline), and a small built-in word / char-n-gram tokenizer for trainable
 * text encoders.
 */
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import type { PreTrainedTokenizer } from "@huggingface/transformers";

/** What to do with numbers in titles. */
export type NumberMode = "keep" | "words" | "digits" | "strip";

/** Options for {@link normalizeText}. */
export interface NormalizeTextOptions {
  /** Unicode normal form, or "none". Defaults to "NFKC" (folds full-width digits, ligatures, superscripts). */
  form?: "NFKC" | "NFC" | "NFKD" | "NFD" | "none";
  /** Case-fold (lowercase, plus ß→ss, ς→σ, ſ→s). Defaults to true. */
  caseFold?: boolean;
  /** `words` spells digits out ("2 pcs" → "two pcs"), `digits` turns number words into digits ("two pcs" → "2 pcs"), `strip` removes digits. Defaults to "keep". */
  numbers?: NumberMode;
  /** Replace punctuation and symbols with spaces (letters, marks, digits kept). Defaults to false. */
  stripPunctuation?: boolean;
  /** Collapse runs of whitespace and trim. Defaults to true. */
  collapseWhitespace?: boolean;
}

const ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SCALES: Array<[number, string]> = [
  [1e12, "trillion"],
  [1e9, "billion"],
  [1e6, "million"],
  [1e3, "thousand"],
];

function under1000(n: number): string {
  const parts: string[] = [];
  if (n >= 100) {
    parts.push(`${ONES[Math.floor(n / 100)]} hundred`);
    n %= 100;
  }
  if (n >= 20) {
    parts.push(n % 10 ? `${TENS[Math.floor(n / 10)]}-${ONES[n % 10]}` : TENS[Math.floor(n / 10)]!);
  } else if (n > 0 || parts.length === 0) parts.push(ONES[n]!);
  return parts.join(" ");
}

/**
 * Spells a number in English words: integers up to 10^15, negatives, and decimals digit by digit.
 * @example numberToWords(1205) // "one thousand two hundred five"; numberToWords(2.5) // "two point five"
 */
export function numberToWords(n: number | string): string {
  const s = typeof n === "number" ? String(n) : n.trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`numberToWords: not a plain decimal number: ${JSON.stringify(s)} (expected digits, optionally with - and one .)`);
  const neg = s.startsWith("-");
  const [intPart, frac] = (neg ? s.slice(1) : s).split(".");
  let v = Number(intPart);
  if (!Number.isSafeInteger(v) || v >= 1e15) throw new Error(`numberToWords: ${s} is too large (limit 10^15)`);
  const words: string[] = [];
  if (v === 0) words.push("zero");
  for (const [scale, name] of SCALES) {
    if (v >= scale) {
      words.push(`${under1000(Math.floor(v / scale))} ${name}`);
      v %= scale;
    }
  }
  if (v > 0) words.push(under1000(v));
  let out = words.join(" ");
  if (frac) out += ` point ${[...frac].map((d) => ONES[Number(d)]).join(" ")}`;
  return neg ? `minus ${out}` : out;
}

const WORD_VALUE = new Map<string, number>([...ONES.map((w, i) => [w, i] as [string, number]), ...TENS.map((w, i) => [w, i * 10] as [string, number]).filter(([w]) => w)]);
const SCALE_VALUE = new Map<string, number>([["hundred", 100], ["thousand", 1e3], ["million", 1e6], ["billion", 1e9], ["trillion", 1e12]]);

const NUMBER_WORD = [...WORD_VALUE.keys(), ...SCALE_VALUE.keys()].sort((x, y) => y.length - x.length).join("|");
const NUMBER_RUN = new RegExp(`\\b(?:${NUMBER_WORD})(?:(?:\\s+and\\s+|\\s+|-)(?:${NUMBER_WORD}))*\\b`, "gu");

/** The value of a run of number words ("two hundred and five" → 205). */
function runValue(run: string): number {
  let total = 0;
  let current = 0;
  for (const w of run.split(/\s+|-/)) {
    if (w === "and" || w === "") continue;
    const v = WORD_VALUE.get(w);
    if (v !== undefined) current += v;
    else {
      const s = SCALE_VALUE.get(w)!;
      if (s === 100) current = (current || 1) * 100;
      else {
        total += (current || 1) * s;
        current = 0;
      }
    }
  }
  return total + current;
}

/**
 * Replaces runs of English number words with digits ("two hundred and five pcs" → "205 pcs").
 * Expects lowercase input (run after case folding).
 */
export function numberWordsToDigits(text: string): string {
  return text.replace(NUMBER_RUN, (run) => String(runValue(run)));
}

/** Replaces each number written in digits with its English words ("3.5kg x2" → "three point five kg x two"). */
export function digitsToWords(text: string): string {
  return text.replace(/\d+(?:\.\d+)?/g, (m, offset: number, whole: string) => {
    const before = offset > 0 && /\p{L}/u.test(whole[offset - 1]!) ? " " : "";
    const after = /\p{L}/u.test(whole[offset + m.length] ?? "") ? " " : "";
    const digits = m.replace(/^0+(?=\d)/, "");
    return `${before}${digits.length > 15 ? [...m].map((d) => ONES[Number(d)]).join(" ") : numberToWords(digits)}${after}`;
  });
}

const FOLD: Record<string, string> = { ß: "ss", ς: "σ", ſ: "s", ẞ: "ss" };

/**
 * Normalises a listing title for matching: Unicode form, case folding, number handling,
 * optional punctuation stripping, whitespace collapsed.
 * @example normalizeText("Ｂｉｇ ２ PCS — Ärmel", { numbers: "words" }) // "big two pcs — ärmel"
 */
export function normalizeText(text: string, opts: NormalizeTextOptions = {}): string {
  const { form = "NFKC", caseFold = true, numbers = "keep", stripPunctuation = false, collapseWhitespace = true } = opts;
  let s = form === "none" ? text : text.normalize(form);
  if (caseFold) s = s.toLowerCase().replace(/[ßςſẞ]/g, (c) => FOLD[c]!);
  if (stripPunctuation) s = s.replace(/[\p{P}\p{S}]/gu, " ");
  switch (numbers) {
    case "keep":
      break;
    case "words":
      s = digitsToWords(s);
      break;
    case "digits":
      s = numberWordsToDigits(s);
      break;
    case "strip":
      s = s.replace(/\d+(?:[.,]\d+)*/g, " ");
      break;
    default:
      throw new Error(`unknown numbers mode: ${String(numbers)} (expected keep|words|digits|strip)`);
  }
  if (collapseWhitespace) s = s.replace(/\s+/gu, " ").trim();
  return s;
}

/** Token ids for a batch, padded to one length (row-major B×L). */
export interface TokenBatch {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  batch: number;
  length: number;
}

/** A tokenizer: text → tokens → padded id batches. */
export interface TextTokenizer {
  /** Vocabulary size (ids are in [0, vocabSize)). */
  readonly vocabSize: number;
  /** The id used for padding. */
  readonly padId: number;
  /** The tokens of one text (no special tokens). */
  tokenize(text: string): string[];
  /** Encodes texts to padded ids (with the tokenizer's special tokens), truncated to `maxLength`. */
  encode(texts: readonly string[], opts?: { maxLength?: number }): TokenBatch;
}

function pad(rows: number[][], padId: number, maxLength: number): TokenBatch {
  const length = Math.max(1, Math.min(maxLength, Math.max(0, ...rows.map((r) => r.length))));
  const inputIds = new Int32Array(rows.length * length).fill(padId);
  const attentionMask = new Int32Array(rows.length * length);
  rows.forEach((r, b) => {
    for (let j = 0; j < Math.min(length, r.length); j++) {
      inputIds[b * length + j] = r[j]!;
      attentionMask[b * length + j] = 1;
    }
  });
  return { inputIds, attentionMask, batch: rows.length, length };
}

/** A transformers.js tokenizer wrapped as a {@link TextTokenizer}; `hf` is the underlying PreTrainedTokenizer. */
export interface HfTextTokenizer extends TextTokenizer {
  readonly hf: PreTrainedTokenizer;
}

/**
 * Loads a transformers.js tokenizer from a folder with tokenizer.json and tokenizer_config.json,
 * offline (no hub access): the class named by `tokenizer_class` (e.g. BertTokenizer), else the base class.
 * @example const tok = await loadHfTokenizer("models/Xenova/bert-base-multilingual-uncased");
 */
export async function loadHfTokenizer(dir: string): Promise<HfTextTokenizer> {
  const tj = path.join(dir, "tokenizer.json");
  if (!existsSync(tj)) throw new Error(`no tokenizer.json in ${dir} (expected a Hugging Face tokenizer folder: tokenizer.json + tokenizer_config.json)`);
  const tc = path.join(dir, "tokenizer_config.json");
  const json = JSON.parse(readFileSync(tj, "utf8"));
  const config = existsSync(tc) ? JSON.parse(readFileSync(tc, "utf8")) : {};
  const T = (await import("@huggingface/transformers")) as unknown as Record<string, new (j: unknown, c: unknown) => PreTrainedTokenizer>;
  const clsName = String(config.tokenizer_class ?? "PreTrainedTokenizer").replace(/Fast$/, "");
  const Cls = T[clsName] ?? T.PreTrainedTokenizer!;
  const hf = new Cls(json, config);
  const vocabSize = hf.get_vocab().size;
  const padId = hf.pad_token_id ?? 0;
  return {
    hf,
    vocabSize,
    padId,
    tokenize: (text) => hf.tokenize(text),
    encode(texts, { maxLength = 128 } = {}) {
      return pad(
        texts.map((t) => hf.encode(t).slice(0, maxLength)),
        padId,
        maxLength,
      );
    },
  };
}

/** Options for {@link simpleTokenizer}. */
export interface SimpleTokenizerOptions {
  /** Emit word tokens. Defaults to true. */
  words?: boolean;
  /** Character n-gram sizes [min, max] within `<word>` boundaries (fastText style); null for none. Defaults to null. */
  charNgrams?: [number, number] | null;
  /** Normalisation applied first. Defaults to NFKC + case folding + punctuation stripped. */
  normalize?: NormalizeTextOptions;
  /** Drop tokens seen fewer times than this in `fit`. Defaults to 1. */
  minCount?: number;
  /** Keep at most this many tokens (most frequent first). Defaults to 50000. */
  maxVocab?: number;
}

/** A trainable word / char-n-gram tokenizer: `fit(texts)` builds the vocabulary (0 = pad, 1 = unknown). */
export interface SimpleTokenizer extends TextTokenizer {
  /** Builds the vocabulary from texts (deterministic: by count, then alphabetically). Returns itself. */
  fit(texts: readonly string[]): SimpleTokenizer;
  /** The vocabulary, id order. */
  readonly vocab: readonly string[];
  /** JSON-safe state for saving; load with {@link simpleTokenizer}({..., vocab}). */
  toJSON(): { options: SimpleTokenizerOptions; vocab: string[] };
}

/** Makes a word / char-n-gram tokenizer; pass `vocab` to restore a fitted one. */
export function simpleTokenizer(opts: SimpleTokenizerOptions = {}, vocab?: readonly string[]): SimpleTokenizer {
  const { words = true, charNgrams = null, normalize = { stripPunctuation: true }, minCount = 1, maxVocab = 50000 } = opts;
  if (!words && !charNgrams) throw new Error("simpleTokenizer: enable words or charNgrams (or both)");
  if (charNgrams && !(charNgrams[0] >= 1 && charNgrams[0] <= charNgrams[1])) throw new Error(`simpleTokenizer: charNgrams must be [min, max] with 1 <= min <= max, got ${JSON.stringify(charNgrams)}`);
  let list: string[] = vocab ? [...vocab] : ["[PAD]", "[UNK]"];
  let index = new Map(list.map((t, i) => [t, i]));
  const tokenize = (text: string): string[] => {
    const out: string[] = [];
    for (const w of normalizeText(text, normalize).split(" ")) {
      if (!w) continue;
      if (words) out.push(w);
      if (charNgrams) {
        const cs = [..."<", ...w, ">"];
        for (let n = charNgrams[0]; n <= charNgrams[1]; n++) for (let i = 0; i + n <= cs.length; i++) out.push(`#${cs.slice(i, i + n).join("")}`);
      }
    }
    return out;
  };
  const tok: SimpleTokenizer = {
    get vocabSize() {
      return list.length;
    },
    padId: 0,
    get vocab() {
      return list;
    },
    tokenize,
    fit(texts) {
      const counts = new Map<string, number>();
      for (const t of texts) for (const k of tokenize(t)) counts.set(k, (counts.get(k) ?? 0) + 1);
      const kept = [...counts.entries()].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      list = ["[PAD]", "[UNK]", ...kept.slice(0, Math.max(0, maxVocab - 2)).map(([t]) => t)];
      index = new Map(list.map((t, i) => [t, i]));
      return tok;
    },
    encode(texts, { maxLength = 128 } = {}) {
      return pad(
        texts.map((t) => tokenize(t).map((k) => index.get(k) ?? 1).slice(0, maxLength)),
        0,
        maxLength,
      );
    },
    toJSON: () => ({ options: opts, vocab: [...list] }),
  };
  return tok;
}
