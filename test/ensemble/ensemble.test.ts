import { describe, expect, it } from "vitest";
import { type EnsembleParams, buildPairTable, pairTableMatches, prunePairTable, scorePairTable } from "../../src/ensemble/pair_table";
import { maximize } from "../../src/ensemble/optimize";
import { crossValidateEnsemble, ensembleReport, tuneEnsemble } from "../../src/ensemble/tune";
import { ensembleTunerHtml, formatTunerScore, tunerScore } from "../../src/ensemble/tuner";
import { matchScores } from "../../src/metrics/matching";
import { concatRows, l2NormalizeRows } from "../../src/retrieval/vectors";
import { twoBranches } from "./fixtures";

describe("pair table", async () => {
  const f = await twoBranches(1);
  const members = [
    { name: "a", neighbours: f.nbA, embeddings: { data: f.A, dim: f.dim } },
    { name: "b", neighbours: f.nbB, embeddings: { data: f.B, dim: f.dim } },
  ];
  const table = buildPairTable(members, f.labels);

  it("holds the union of both members' top-k with cosine similarities", () => {
    const xa = l2NormalizeRows(f.A, f.dim);
    for (let i = 0; i < f.n; i += 7) {
      const expected = new Set<number>();
      for (const nb of [f.nbA, f.nbB]) for (let t = 0; t < nb.k; t++) if (nb.indices[i * nb.k + t] !== i) expected.add(nb.indices[i * nb.k + t]!);
      const got = Array.from(table.cols.subarray(table.rowPtr[i]!, table.rowPtr[i + 1]!));
      expect(new Set(got)).toEqual(expected);
      for (let p = table.rowPtr[i]!; p < table.rowPtr[i + 1]!; p++) {
        const j = table.cols[p]!;
        let dot = 0;
        for (let c = 0; c < f.dim; c++) dot += xa[i * f.dim + c]! * xa[j * f.dim + c]!;
        expect(table.sims[0]![p]).toBeCloseTo(dot, 5);
        expect(table.same[p]).toBe(f.labels[i] === f.labels[j] ? 1 : 0);
      }
    }
  });

  it("never crosses folds when folds are given", () => {
    const t = buildPairTable(members, f.labels, { folds: f.folds });
    for (let i = 0; i < f.n; i++) for (let p = t.rowPtr[i]!; p < t.rowPtr[i + 1]!; p++) expect(f.folds[t.cols[p]!]).toBe(f.folds[i]);
  });

  it("scorePairTable equals matchScores of the match sets it implies", () => {
    const cases: EnsembleParams[] = [
      { weights: [1, 0], minSimilarity: 0.5 },
      { weights: [0.3, 0.7], minSimilarity: 0.4, min2: false },
      { weights: [1, 1], minSimilarity: 0.6, branchMinSimilarities: [0.8, null] },
      { weights: [0, 0], minSimilarity: 0.2, branchMinSimilarities: [null, 0.7] },
    ];
    for (const p of cases) {
      const s = scorePairTable(table, p);
      const ref = matchScores(pairTableMatches(table, p), f.labels);
      expect(s.f1).toBeCloseTo(ref.f1, 12);
      expect(s.precision).toBeCloseTo(ref.precision, 12);
      expect(s.recall).toBeCloseTo(ref.recall, 12);
    }
  });

  it("weighted similarity averaging equals cosine on √w-scaled concatenated embeddings", () => {
    const w = [0.25, 0.75];
    const cat = concatRows([
      { data: f.A, dim: f.dim, weight: Math.sqrt(w[0]!) },
      { data: f.B, dim: f.dim, weight: Math.sqrt(w[1]!) },
    ]);
    const x = l2NormalizeRows(cat.data, cat.dim);
    for (let p = 0; p < 200; p++) {
      const row = table.rowPtr.findIndex((_, r) => table.rowPtr[r + 1]! > p);
      let dot = 0;
      for (let c = 0; c < cat.dim; c++) dot += x[row * cat.dim + c]! * x[table.cols[p]! * cat.dim + c]!;
      expect(w[0]! * table.sims[0]![p]! + w[1]! * table.sims[1]![p]!).toBeCloseTo(dot, 5);
    }
  });

  it("prunePairTable keeps the highest-mean candidates", () => {
    const p = prunePairTable(table, 3);
    for (let i = 0; i < f.n; i++) expect(p.rowPtr[i + 1]! - p.rowPtr[i]!).toBeLessThanOrEqual(3);
    expect(() => buildPairTable([{ name: "x", neighbours: f.nbA }], f.labels)).toThrow(/needs embeddings or a similarity/);
  });
});

describe("optimisers", () => {
  const f = ([x, y]: number[]) => -((x! - 0.3) ** 2) - (y! - 0.7) ** 2;
  const space = [
    { name: "x", lo: 0, hi: 1 },
    { name: "y", lo: 0, hi: 1 },
  ];
  it("grid, coordinate ascent and Nelder–Mead find the maximum", () => {
    const g = maximize(f, space, { method: "grid" });
    expect(g.x[0]).toBeCloseTo(0.3, 6);
    expect(g.evals).toBe(121);
    for (const method of ["coordinate", "nelder-mead"] as const) {
      const r = maximize(f, space, { method });
      expect(r.x[0]).toBeCloseTo(0.3, 2);
      expect(r.x[1]).toBeCloseTo(0.7, 2);
      expect(r.trace.at(-1)).toBe(r.value);
    }
    expect(() => maximize(f, space, { method: "sgd" as never })).toThrow(/expected grid\|coordinate\|nelder-mead/);
    expect(() => maximize(f, space, { method: "grid", maxEvals: 10 })).toThrow(/121 points/);
  });
});

describe("tuning", async () => {
  const f = await twoBranches(2, 90);
  const table = buildPairTable(
    [
      { name: "a", neighbours: f.nbA, embeddings: { data: f.A, dim: f.dim } },
      { name: "b", neighbours: f.nbB, embeddings: { data: f.B, dim: f.dim } },
    ],
    f.labels,
    { folds: f.folds },
  );

  it("the tuned ensemble beats each tuned single branch; every optimiser improves on the start", () => {
    const a = tuneEnsemble(table, { members: [0] });
    const b = tuneEnsemble(table, { members: [1] });
    const both = tuneEnsemble(table);
    expect(both.score.f1).toBeGreaterThan(Math.max(a.score.f1, b.score.f1));
    const start = scorePairTable(table, { weights: [1, 1], minSimilarity: 0.5 }).f1;
    for (const method of ["grid", "coordinate", "nelder-mead"] as const) {
      const r = tuneEnsemble(table, { method, union: method !== "grid" });
      expect(r.score.f1).toBeGreaterThanOrEqual(start);
      expect(r.method).toBe(method);
    }
  });

  it("nested CV scores each fold with a rule tuned without it", () => {
    const cv = crossValidateEnsemble(table);
    expect(cv.perFold.map((p) => p.fold)).toEqual([0, 1, 2]);
    expect(cv.perFold.reduce((s, p) => s + p.count, 0)).toBe(f.n);
    expect(cv.cvF1).toBeLessThanOrEqual(tuneEnsemble(table).score.f1 + 1e-9);
    const rows = ensembleReport(table, { methods: ["coordinate", "nelder-mead"] });
    expect(rows.map((r) => r.combination).sort()).toEqual(["a", "a+b", "a+b", "a+b ∪", "a+b ∪", "b"].sort());
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.cvF1).toBeGreaterThanOrEqual(rows[i]!.cvF1);
  });

  it("the tuner page is self-contained and embeds the scorer", () => {
    const html = ensembleTunerHtml(table, { id: "t1" });
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('id="t1-f1"');
    expect(html).toContain("function scorePairTable");
    const s = tunerScore(table, { weights: [1, 1], minSimilarity: 0.5 });
    expect(s.count).toBe(f.n);
  });

  it("thresholds are similarities named minSimilarity, searched in similarityRange", () => {
    const r = tuneEnsemble(table, { union: true, similarityRange: [0.2, 0.9] });
    expect(r.params.minSimilarity).toBeGreaterThanOrEqual(0.2);
    expect(r.params.minSimilarity).toBeLessThanOrEqual(0.9);
    for (const b of r.params.branchMinSimilarities ?? []) if (b !== null) expect(b).toBeLessThanOrEqual(0.9);
    expect(r.params).not.toHaveProperty("threshold");
    const row = ensembleReport(table)[0]!;
    expect(Object.keys(row)).toEqual(expect.arrayContaining(["minSimilarity", "branchMinSimilarities"]));
    expect(() => tuneEnsemble(table, { thresholdRange: [0, 1] } as never)).toThrow(/`thresholdRange` is now `similarityRange`/);
    expect(() => scorePairTable(table, { weights: [1, 1], threshold: 0.5 } as never)).toThrow(/minSimilarity must be a finite similarity threshold, got undefined/);
  });

  it("the tuner page's own script reads its sliders as minSimilarity / branchMinSimilarities", () => {
    // a minimal DOM, so the page's script runs here too (the Chromium test may be skipped)
    const initial = { weights: [0.5, 0.5], minSimilarity: 0.5, branchMinSimilarities: [null, null], min2: true };
    const html = ensembleTunerHtml(table, { id: "d", initial });
    const els = new Map<string, { value: string; checked: boolean; textContent: string }>();
    for (const m of html.matchAll(/<input type="range" id="([^"]+)"[^>]*value="([^"]+)"/g)) els.set(m[1]!, { value: m[2]!, checked: false, textContent: "" });
    for (const m of html.matchAll(/<input type="checkbox" id="([^"]+)"( checked)?>/g)) els.set(m[1]!, { value: "", checked: !!m[2], textContent: "" });
    const listeners: Array<() => void> = [];
    const document = {
      getElementById: (id: string) => {
        if (id === "d") return { addEventListener: (_: string, fn: () => void) => listeners.push(fn) };
        if (!els.has(id)) els.set(id, { value: "", checked: false, textContent: "" });
        return els.get(id);
      },
    };
    const script = html.slice(html.indexOf("<script>") + 8, html.indexOf("</script>"));
    new Function("document", "atob", script)(document, (b: string) => Buffer.from(b, "base64").toString("binary"));
    expect(els.get("d-f1")!.textContent).toBe(formatTunerScore(tunerScore(table, initial).f1));
    els.get("d-t")!.value = "0.72";
    els.get("d-u0")!.checked = true;
    els.get("d-b0")!.value = "0.6";
    listeners[0]!();
    const moved = { ...initial, minSimilarity: 0.72, branchMinSimilarities: [0.6, null] };
    expect(els.get("d-f1")!.textContent).toBe(formatTunerScore(tunerScore(table, moved).f1));
    expect(els.get("d-f1")!.textContent).not.toBe(formatTunerScore(tunerScore(table, initial).f1));
  });
});
