import { DataFrame } from "danfojs-node";
import { describe, expect, it } from "vitest";
import { formatCell, tableBundle } from "../../src/notebook/table";

describe("table", () => {
  it("renders a danfo DataFrame with its index, columns and formatted numbers", () => {
    const df = new DataFrame([
      { id: "a", score: 0.123456789, n: 3 },
      { id: "b", score: 2.5, n: 4 },
    ]);
    const b = tableBundle(df, { digits: 3 });
    const html = b.data["text/html"] as string;
    expect(html).toContain("<th>id</th><th>score</th><th>n</th>");
    expect(html).toContain('<td style="text-align:right;white-space:nowrap" title="0.123456789">0.123</td>');
    expect(html).toContain("2 rows × 3 columns");
    expect(b.data["text/plain"]).toContain("[2 rows × 3 columns]");
  });

  it("escapes HTML in headers and cells", () => {
    const html = tableBundle([{ "<b>": "<script>alert('x')</script>", ok: 'a "b" & c' }]).data["text/html"] as string;
    expect(html).not.toContain("<script>");
    expect(html).toContain("<th>&lt;b&gt;</th>");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(html).toContain("a &quot;b&quot; &amp; c");
  });

  it("shows the head and tail of long tables around an ellipsis row", () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
    const html = tableBundle(rows, { maxRows: 6 }).data["text/html"] as string;
    const body = html.slice(html.indexOf("<tbody>"));
    expect(body.match(/<tr>/g)).toHaveLength(7);
    expect(body).toContain("<th>2</th>");
    expect(body).not.toContain("<th>3</th>");
    expect(body).toContain("<th>…</th>");
    expect(body).toContain("<th>99</th>");
    expect(html).toContain("100 rows × 1 columns");
  });

  it("renders Series and row objects with missing keys", () => {
    const df = new DataFrame([{ a: 1 }, { a: 2 }]);
    expect(tableBundle(df["a"]).data["text/html"]).toContain("<th>a</th>");
    const html = tableBundle([{ a: 1 }, { b: "x" }]).data["text/html"] as string;
    expect(html).toContain("<th>a</th><th>b</th>");
    expect(() => tableBundle(42 as never)).toThrow(/expected a danfo DataFrame/);
    expect(() => tableBundle([], { maxRows: 0 })).toThrow(/maxRows must be a positive integer/);
  });

  it("formats cells: integers as is, floats fixed, tiny/huge exponential, long text cut", () => {
    expect(formatCell(42)).toBe("42");
    expect(formatCell(0.5, 2)).toBe("0.50");
    expect(formatCell(1e-9, 4)).toBe("1.000e-9");
    expect(formatCell(Number.NaN)).toBe("NaN");
    expect(formatCell(null)).toBe("");
    expect(formatCell("x".repeat(100), 4, 10)).toBe(`${"x".repeat(9)}…`);
  });
});
