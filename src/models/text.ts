/**
 * Text featurisers for the trainable text encoders: a hashed character-n-gram bag (fast, the
 * default) and hashed word-token ids for the small transformer. Pure JS, deterministic.
 */
import { hashString } from "../rng";

/** Options for {@link hashedNgrams}. */
export interface HashedNgramOptions {
  /** Feature dimension (hash buckets). Defaults to 2048. */
  dim?: number;
  /** Smallest character n-gram. Defaults to 2. */
  nMin?: number;
  /** Largest character n-gram. Defaults to 4. */
  nMax?: number;
  /** Also hash whole words. Defaults to true. */
  words?: boolean;
}

/** Lowercases and splits text into word tokens (Unicode letters and digits). */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().normalize("NFKC").match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The hashed character-n-gram bag of each text: log(1 + count) per bucket, L2-normalised.
 * Returns a flat Float32Array [texts.length × dim].
 * @example const x = hashedNgrams(["red apple"], { dim: 512 }); // x.length === 512
 */
export function hashedNgrams(texts: readonly string[], opts: HashedNgramOptions = {}): Float32Array {
  const { dim = 2048, nMin = 2, nMax = 4, words = true } = opts;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`hashedNgrams: dim must be a positive integer, got ${dim}`);
  if (!(nMin >= 1 && nMax >= nMin)) throw new Error(`hashedNgrams: need 1 <= nMin <= nMax, got ${nMin}..${nMax}`);
  const out = new Float32Array(texts.length * dim);
  texts.forEach((text, i) => {
    const row = out.subarray(i * dim, (i + 1) * dim);
    for (const w of wordTokens(text)) {
      const s = `<${w}>`;
      if (words) row[hashString(`w:${w}`) % dim]! += 1;
      for (let n = nMin; n <= nMax; n++) for (let k = 0; k + n <= s.length; k++) row[hashString(s.slice(k, k + n)) % dim]! += 1;
    }
    let norm = 0;
    for (let k = 0; k < dim; k++) {
      row[k] = Math.log1p(row[k]!);
      norm += row[k]! * row[k]!;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let k = 0; k < dim; k++) row[k]! *= inv;
    }
  });
  return out;
}

/** Options for {@link tokenIds}. */
export interface TokenIdOptions {
  /** Vocabulary size (ids 0 = padding, 1 = [CLS], words hash into 2..vocab-1). Defaults to 4096. */
  vocab?: number;
  /** Sequence length (truncated or padded with 0). Defaults to 16. */
  maxLen?: number;
}

/**
 * Hashed word-token ids, [texts.length × maxLen] Int32Array: [CLS] then the words hashed into the
 * vocabulary (a hashing stand-in for a wordpiece vocabulary: no vocabulary file is needed).
 */
export function tokenIds(texts: readonly string[], opts: TokenIdOptions = {}): Int32Array {
  const { vocab = 4096, maxLen = 16 } = opts;
  if (!Number.isInteger(vocab) || vocab < 3) throw new Error(`tokenIds: vocab must be an integer >= 3, got ${vocab}`);
  const out = new Int32Array(texts.length * maxLen);
  texts.forEach((t, i) => {
    out[i * maxLen] = 1;
    wordTokens(t)
      .slice(0, maxLen - 1)
      .forEach((w, k) => {
        out[i * maxLen + 1 + k] = 2 + (hashString(`t:${w}`) % (vocab - 2));
      });
  });
  return out;
}

/** Options for {@link bagIds}. */
export interface BagIdOptions {
  /** Hash buckets (id 0 = padding; pieces hash into 1..vocab-1). Defaults to 65536. */
  vocab?: number;
  /** Pieces kept per title (word ids first, then character n-grams; padded with 0). Defaults to 128. */
  maxLen?: number;
  /** Smallest character n-gram. Defaults to 3. */
  nMin?: number;
  /** Largest character n-gram. Defaults to 5. */
  nMax?: number;
}

/**
 * fastText-style sub-word pieces of each title as hashed ids, [texts.length × maxLen] Int32Array: every
 * word (`w:` prefix), then the character n-grams of `<word>`, each hashed into 1..vocab-1, 0 = padding.
 * A word shared by two titles in any language is one id; an unseen word still shares its n-grams.
 * @example bagIds(["red apple"], { vocab: 1024, maxLen: 8 }) // 8 ids: w:red, w:apple, <re, red, ed>, …
 */
export function bagIds(texts: readonly string[], opts: BagIdOptions = {}): Int32Array {
  const { vocab = 65536, maxLen = 128, nMin = 3, nMax = 5 } = opts;
  if (!Number.isInteger(vocab) || vocab < 2) throw new Error(`bagIds: vocab must be an integer >= 2, got ${vocab}`);
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new Error(`bagIds: maxLen must be a positive integer, got ${maxLen}`);
  if (!(nMin >= 1 && nMax >= nMin)) throw new Error(`bagIds: need 1 <= nMin <= nMax, got ${nMin}..${nMax}`);
  const out = new Int32Array(texts.length * maxLen);
  texts.forEach((text, i) => {
    const words = wordTokens(text);
    const pieces = words.map((w) => `w:${w}`);
    for (const w of words) {
      const s = `<${w}>`;
      for (let n = nMin; n <= nMax; n++) for (let k = 0; k + n <= s.length; k++) pieces.push(s.slice(k, k + n));
    }
    const m = Math.min(maxLen, pieces.length);
    for (let k = 0; k < m; k++) out[i * maxLen + k] = 1 + (hashString(pieces[k]!) % (vocab - 1));
  });
  return out;
}
