/** `banner()`: which compute backend, device and thread count this notebook runs on, and on what data. */
import { type BackendInfo, backendBanner, initBackend } from "../backend/index";
import { env } from "../env";
import { displayBundle } from "./display";
import { escapeHtmlText, type MimeBundle } from "./outputs";

/** The banner bundle for a backend (from `initBackend()`) and a dataset folder; pure. */
export function bannerBundle(info: BackendInfo, dataset: string = env.dataset): MimeBundle {
  const html =
    `<div class="matchlab-banner" style="font-size:12px;padding:4px 8px;border-left:4px solid #0072B2;background:#f5f8fb">` +
    `<b>matchlab</b> · node ${escapeHtmlText(process.version)} · dataset <code>${escapeHtmlText(dataset)}</code>` +
    backendBanner(info, { html: true }) +
    "</div>";
  const text = `matchlab · node ${process.version} · dataset ${dataset}\n${backendBanner(info)}`;
  return { data: { "text/html": html, "text/plain": text }, metadata: {} };
}

/**
 * Initialises the compute backend (`initBackend()`, idempotent) and shows the banner: backend,
 * package, device, threads, fallbacks, Node version and dataset folder.
 * @example await ml.banner()
 */
export async function banner(): Promise<void> {
  // the banner lists fallbacks itself: no separate log line
  displayBundle(bannerBundle(await initBackend({ log: () => undefined })));
}
