import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { digitsToWords, loadHfTokenizer, normalizeText, numberToWords, numberWordsToDigits, simpleTokenizer } from "../../src/data/text";

/** A tiny WordPiece tokenizer.json written from scratch (no download). */
function tinyTokenizer(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-tok-"));
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "blue", "apple", "##s", "shoe", "big", "two"];
  const special = (c: string, id: number) => ({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(
    path.join(dir, "tokenizer.json"),
    JSON.stringify({
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: vocab.slice(0, 5).map(special),
      normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
        pair: [],
        special_tokens: { "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] }, "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] } },
      },
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((v, i) => [v, i])) },
    }),
  );
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true, pad_token: "[PAD]", unk_token: "[UNK]", cls_token: "[CLS]", sep_token: "[SEP]", mask_token: "[MASK]" }));
  return dir;
}

describe("text", () => {
  it("spells numbers in words", () => {
    expect(numberToWords(0)).toBe("zero");
    expect(numberToWords(15)).toBe("fifteen");
    expect(numberToWords(42)).toBe("forty-two");
    expect(numberToWords(1205)).toBe("one thousand two hundred five");
    expect(numberToWords(3_000_017)).toBe("three million seventeen");
    expect(numberToWords(-2.05)).toBe("minus two point zero five");
    expect(() => numberToWords("1e5")).toThrow(/not a plain decimal number/);
  });

  it("turns digits into words and number words into digits", () => {
    expect(digitsToWords("3.5kg x2")).toBe("three point five kg x two");
    expect(numberWordsToDigits("two hundred and five pcs, twenty-one shoes, none often")).toBe("205 pcs, 21 shoes, none often");
    expect(numberWordsToDigits("one thousand two hundred")).toBe("1200");
  });

  it("normalises titles: NFKC, case folding, numbers, punctuation", () => {
    expect(normalizeText("Ｂｉｇ  ２ PCS ﬁne Straße")).toBe("big 2 pcs fine strasse");
    expect(normalizeText("Big 2 PCS", { numbers: "words" })).toBe("big two pcs");
    expect(normalizeText("TWO Apples", { numbers: "digits" })).toBe("2 apples");
    expect(normalizeText("a-b, (c)!", { stripPunctuation: true })).toBe("a b c");
    expect(normalizeText("x 12,5 y", { numbers: "strip" })).toBe("x y");
    expect(() => normalizeText("x", { numbers: "roman" as never })).toThrow(/unknown numbers mode: roman \(expected keep\|words\|digits\|strip\)/);
  });

  it("tokenises through a transformers.js tokenizer built from a local tokenizer.json", async () => {
    const tok = await loadHfTokenizer(tinyTokenizer());
    expect(tok.tokenize("Red Apples, big SHOE!")).toEqual(["red", "apple", "##s", "[UNK]", "big", "shoe", "[UNK]"]);
    const b = tok.encode(["red apple", "big blue shoes two"], { maxLength: 6 });
    expect([b.batch, b.length]).toEqual([2, 6]);
    expect(Array.from(b.inputIds)).toEqual([2, 5, 7, 3, 0, 0, 2, 10, 6, 9, 8, 11]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(tok.vocabSize).toBe(12);
    await expect(loadHfTokenizer(os.tmpdir())).rejects.toThrow(/no tokenizer\.json in/);
  });

  it("builds a word / char-n-gram vocabulary deterministically", () => {
    const tok = simpleTokenizer({ charNgrams: [3, 3] }).fit(["Red shoe", "red SHOES!", "blue"]);
    expect(tok.vocab.slice(0, 4)).toEqual(["[PAD]", "[UNK]", "#<re", "#<sh"]);
    expect(tok.tokenize("Red!")).toEqual(["red", "#<re", "#red", "#ed>"]);
    const b = tok.encode(["red", "zzz"], { maxLength: 8 });
    expect(b.length).toBe(4);
    expect(b.inputIds[4]).toBe(1); // unknown
    const again = simpleTokenizer(tok.toJSON().options, tok.toJSON().vocab);
    expect(Array.from(again.encode(["red shoe"]).inputIds)).toEqual(Array.from(tok.encode(["red shoe"]).inputIds));
  });
});
