/** The notebook progress renderer: one output per bar, redrawn in place (Jupyter display_id). */
import { formatDuration, formatProgress, type ProgressRenderer, type ProgressState } from "../progress";
import { liveDisplay } from "./display";
import { escapeHtmlText, type MimeBundle } from "./outputs";

/** The bundle drawing one progress state: an HTML bar plus the terminal line as text. */
export function progressBundle(s: ProgressState): MimeBundle {
  const frac = s.total > 0 ? Math.min(1, s.done / s.total) : s.finished ? 1 : 0;
  const pct = Math.round(frac * 100);
  const rate = s.elapsedMs > 0 ? s.done / (s.elapsedMs / 1000) : 0;
  const eta = s.total > 0 && s.done > 0 && !s.finished ? ` < ${formatDuration((s.elapsedMs / s.done) * (s.total - s.done))}` : "";
  const count = s.total > 0 ? `${s.done}/${s.total}` : `${s.done}`;
  const color = s.finished ? "#009E73" : "#0072B2";
  const bar =
    s.total > 0 || s.finished
      ? `<div style="flex:0 0 240px;height:10px;background:#e5e5e5;border-radius:5px;overflow:hidden"><div style="width:${pct}%;height:100%;background:${color}"></div></div>`
      : "";
  const html =
    `<div class="matchlab-progress" style="display:flex;align-items:center;gap:8px;font-family:monospace;font-size:12px">` +
    `<span>${escapeHtmlText(s.label)}</span>${bar}<span>${s.total > 0 ? `${pct}% ` : ""}${count} [${formatDuration(s.elapsedMs)}${eta}${rate > 0 ? `, ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s` : ""}]</span>` +
    (s.note ? `<span style="color:#555">${escapeHtmlText(s.note)}</span>` : "") +
    "</div>";
  return { data: { "text/html": html, "text/plain": formatProgress(s) }, metadata: {} };
}

/** A progress renderer that draws in the current notebook cell and updates in place. */
export function notebookProgressRenderer(): ProgressRenderer {
  const d = liveDisplay();
  return { update: (s) => d.update(progressBundle(s)) };
}
