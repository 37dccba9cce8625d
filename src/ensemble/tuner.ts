/**
 * An interactive ensemble tuner for notebooks: one self-contained HTML string (no server, no
 * network) with sliders for each member's weight, the combined similarity threshold
 * (`minSimilarity`) and per-member union similarity thresholds (`branchMinSimilarities`). The pair table is embedded (base64 typed arrays) and F1 is recomputed live in the
 * browser by the very function {@link scorePairTable} (its source is embedded), so the page and
 * TypeScript agree to the last digit.
 */
import { type EnsembleParams, type PairTable, prunePairTable, scorePairTable } from "./pair_table";

/** Options for {@link ensembleTunerHtml}. */
export interface TunerOptions {
  /** Initial rule. Defaults to equal weights, minSimilarity 0.5, no union. */
  initial?: EnsembleParams;
  /** Candidates kept per posting in the embedded table (see {@link prunePairTable}). Defaults to 20. */
  maxPerRow?: number;
  /** Heading. Defaults to "Ensemble tuner". */
  title?: string;
  /** Element id prefix (must be unique in the page). Defaults to one derived from the table. */
  id?: string;
}

function b64(a: Int32Array | Float32Array | Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The table the tuner embeds (pruned to `maxPerRow` candidates per posting): score against this to reproduce the page's numbers. */
export function tunerTable(table: PairTable, maxPerRow = 20): PairTable {
  return prunePairTable(table, maxPerRow);
}

/** How the tuner formats a score (4 decimals). */
export function formatTunerScore(v: number): string {
  return v.toFixed(4);
}

/**
 * Returns the tuner's HTML; display it with the notebook module's html display.
 * @example
 * const page = ensembleTunerHtml(table, { initial: tuned.params });
 * ml.html(page); // in a notebook
 */
export function ensembleTunerHtml(table: PairTable, opts: TunerOptions = {}): string {
  const { maxPerRow = 20, title = "Ensemble tuner" } = opts;
  const M = table.names.length;
  const initial: EnsembleParams = opts.initial ?? { weights: new Array<number>(M).fill(1), minSimilarity: 0.5, branchMinSimilarities: new Array<number | null>(M).fill(null), min2: true };
  const t = tunerTable(table, maxPerRow);
  const id = (opts.id ?? `mlt${(t.cols.length * 2654435761 + t.n * 40503 + M) >>> 0}`).replace(/[^A-Za-z0-9_-]/g, "");
  const wsum = initial.weights.reduce((s, x) => s + Math.max(0, x), 0) || 1;
  const data = {
    n: t.n,
    names: t.names,
    rowPtr: b64(t.rowPtr),
    cols: b64(t.cols),
    sims: t.sims.map(b64),
    same: b64(t.same),
    groupSize: b64(t.groupSize),
    initial: {
      weights: initial.weights.map((w) => Math.max(0, w) / wsum),
      minSimilarity: initial.minSimilarity,
      branchMinSimilarities: initial.branchMinSimilarities ?? new Array<number | null>(M).fill(null),
      min2: initial.min2 !== false,
    },
  };
  const slider = (key: string, label: string, value: number, extra = "") =>
    `<div class="row"><label for="${id}-${key}">${esc(label)}</label><input type="range" id="${id}-${key}" min="0" max="1" step="0.01" value="${value.toFixed(2)}"${extra}><span id="${id}-${key}-v">${value.toFixed(2)}</span></div>`;
  const weightRows = t.names.map((name, m) => slider(`w${m}`, `weight ${name}`, data.initial.weights[m]!)).join("");
  const unionRows = t.names
    .map((name, m) => {
      const b = data.initial.branchMinSimilarities[m];
      return `<div class="row"><label><input type="checkbox" id="${id}-u${m}"${b === null || b === undefined ? "" : " checked"}> ${esc(name)} similarity ≥</label><input type="range" id="${id}-b${m}" min="0" max="1" step="0.01" value="${(b ?? 0.9).toFixed(2)}"><span id="${id}-b${m}-v">${(b ?? 0.9).toFixed(2)}</span></div>`;
    })
    .join("");
  // The scorer's own source, so the browser computes exactly what TypeScript computes.
  const scorer = scorePairTable.toString();
  return `<div id="${id}" class="matchlab-tuner" style="font:13px system-ui,sans-serif;max-width:560px;border:1px solid #ddd;border-radius:6px;padding:10px">
<style>#${id} .row{display:flex;align-items:center;gap:8px;margin:3px 0}#${id} label{width:190px}#${id} input[type=range]{flex:1}#${id} .score{font-size:16px;margin-top:8px}#${id} h4{margin:4px 0}</style>
<h4>${esc(title)}</h4>
<div style="color:#666">${t.n} postings, ${t.cols.length} candidate pairs (≤ ${maxPerRow} per posting); every threshold is a cosine similarity (match when ≥); min-2 ${data.initial.min2 ? "on" : "off"}</div>
<h4>Weights</h4>${weightRows}
<h4>Combined similarity ≥</h4>${slider("t", "min similarity", data.initial.minSimilarity)}
<h4>Union with single branches</h4>${unionRows}
<div class="score">F1 <b id="${id}-f1">…</b> · precision <span id="${id}-p">…</span> · recall <span id="${id}-r">…</span> · matches/posting <span id="${id}-m">…</span></div>
<script>
(function () {
  var __name = function (f) { return f; };
  var D = ${JSON.stringify(data)};
  function dec(s, T) { var b = atob(s); var u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return new T(u.buffer); }
  var table = { n: D.n, rowPtr: dec(D.rowPtr, Int32Array), cols: dec(D.cols, Int32Array), sims: D.sims.map(function (s) { return dec(s, Float32Array); }), same: dec(D.same, Uint8Array), groupSize: dec(D.groupSize, Int32Array) };
  var score = (${scorer});
  var M = D.names.length;
  function el(k) { return document.getElementById("${id}-" + k); }
  function params() {
    var w = [], b = [];
    for (var m = 0; m < M; m++) { w.push(Number(el("w" + m).value)); b.push(el("u" + m).checked ? Number(el("b" + m).value) : null); }
    return { weights: w, minSimilarity: Number(el("t").value), branchMinSimilarities: b, min2: D.initial.min2 };
  }
  function update() {
    var p = params();
    for (var m = 0; m < M; m++) { el("w" + m + "-v").textContent = Number(el("w" + m).value).toFixed(2); el("b" + m + "-v").textContent = Number(el("b" + m).value).toFixed(2); }
    el("t-v").textContent = Number(el("t").value).toFixed(2);
    var s = score(table, p, null);
    el("f1").textContent = s.f1.toFixed(4);
    el("p").textContent = s.precision.toFixed(4);
    el("r").textContent = s.recall.toFixed(4);
    el("m").textContent = s.meanMatches.toFixed(2);
  }
  var root = document.getElementById("${id}");
  root.addEventListener("input", update);
  root.addEventListener("change", update);
  update();
})();
</script>
</div>`;
}

/** The score the tuner shows for `params` (on its pruned table), for checking the page. */
export function tunerScore(table: PairTable, params: EnsembleParams, maxPerRow = 20) {
  return scorePairTable(tunerTable(table, maxPerRow), params, null);
}
