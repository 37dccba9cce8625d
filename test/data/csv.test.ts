import { describe, expect, it } from "vitest";
import { formatCsv, parseCsv } from "../../src/data/csv";

describe("CSV", () => {
  it("parses quotes, doubled quotes, commas and newlines in fields, CRLF, BOM and UTF-8", () => {
    const text = '\ufeffposting_id,title,label_group\r\np1,"Shoe, leather ""XL""",g1\r\np2,"two\nlines",g1\r\np3,ünïcödé 👟 靴,g2\r\n';
    const t = parseCsv(text);
    expect(t.header).toEqual(["posting_id", "title", "label_group"]);
    expect(t.rows).toEqual([
      ["p1", 'Shoe, leather "XL"', "g1"],
      ["p2", "two\nlines", "g1"],
      ["p3", "ünïcödé 👟 靴", "g2"],
    ]);
    expect(t.lines).toEqual([2, 3, 5]);
  });

  it("round-trips through formatCsv", () => {
    const rows = [["a,b", 'q"q', " lead", "plain"], ["x\ny", "", "3", "ü"]];
    const t = parseCsv(formatCsv(["c1", "c2", "c3", "c4"], rows));
    expect(t.rows).toEqual(rows);
  });

  it("handles a last line without newline and skips blank lines", () => {
    expect(parseCsv("a,b\n1,2\n\n3,4").rows).toEqual([["1", "2"], ["3", "4"]]);
    expect(parseCsv("a,b\n1,").rows).toEqual([["1", ""]]);
  });

  it("names the line of malformed quoting", () => {
    expect(() => parseCsv('a,b\n1,"open\n', "f.csv")).toThrow(/f\.csv:2: unterminated quoted field/);
    expect(() => parseCsv('a,b\n1,"x"y\n', "f.csv")).toThrow(/f\.csv:2: unexpected character "y" after a closing quote/);
    expect(() => parseCsv('a,b\n1,x"y\n', "f.csv")).toThrow(/f\.csv:2: stray quote/);
    expect(() => parseCsv("", "f.csv")).toThrow(/empty CSV/);
  });
});
