/**
 * The one place matchlab talks to the tslab kernel. Bundles with several mime types (html +
 * plotly json + text) go through tslab's own display channel; `DisplaySink` makes it swappable so
 * everything above is testable without a kernel (tests install a recording sink).
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import type * as Tslab from "tslab";
import { env } from "../env";
import type { MimeBundle } from "./outputs";

/** Where display bundles go. `displayId` + `update` replace an earlier output in place. */
export interface DisplaySink {
  display(bundle: MimeBundle, displayId?: string, update?: boolean): void;
}

type WriteDisplayData = (content: { data: unknown; metadata: unknown; transient: { display_id?: string } }, update: boolean) => void;

const req = createRequire(path.join(env.root, "package.json"));

/** tslab's internal jupyter module as loaded by the running kernel (its `lastWriteDisplayData` is set per execution). */
function kernelJupyterModule(): { lastWriteDisplayData: WriteDisplayData | null } | null {
  const suffix = path.join("tslab", "dist", "jupyter.js");
  for (const [file, mod] of Object.entries(req.cache)) {
    if (file.endsWith(suffix) && mod?.exports && "lastWriteDisplayData" in mod.exports) return mod.exports;
  }
  return null;
}

/** True when running inside a tslab kernel (a notebook cell), false in plain Node (CLI, tests). */
export function inTslabKernel(): boolean {
  return typeof kernelJupyterModule()?.lastWriteDisplayData === "function";
}

/** The sink that sends bundles to the tslab kernel's current cell. */
export function tslabSink(): DisplaySink {
  return {
    display(bundle, displayId, update = false) {
      const jm = kernelJupyterModule();
      const write = jm?.lastWriteDisplayData;
      if (typeof write === "function") {
        write({ data: bundle.data, metadata: bundle.metadata, transient: displayId ? { display_id: displayId } : {} }, update);
        return;
      }
      // a kernel without the internal channel: tslab's public API, one mime type per output
      const tslab = req("tslab") as typeof Tslab;
      const html = bundle.data["text/html"];
      tslab.display.html(typeof html === "string" ? html : String(bundle.data["text/plain"] ?? ""));
    },
  };
}

/** The sink used outside a kernel: prints each bundle's text/plain to stdout. */
export function textSink(stream: NodeJS.WritableStream = process.stdout): DisplaySink {
  return {
    display(bundle) {
      const t = bundle.data["text/plain"];
      if (typeof t === "string" && t) stream.write(`${t}\n`);
    },
  };
}

interface Session {
  sink: DisplaySink | null;
  nonce: string;
}

/** Session state lives on globalThis so that it survives tslab re-evaluating src/ in the same kernel. */
export function notebookSession(): Session {
  const key = Symbol.for("matchlab.notebook.session");
  const g = globalThis as unknown as Record<symbol, Session | undefined>;
  let s = g[key];
  if (!s) {
    s = { sink: null, nonce: randomBytes(4).toString("hex") };
    g[key] = s;
  }
  return s;
}

/** Replaces where displays go (a recording sink in tests); `null` restores the automatic choice. */
export function setDisplaySink(sink: DisplaySink | null): void {
  notebookSession().sink = sink;
}

/** The current sink: the one set, else the kernel when inside one, else text on stdout. */
export function displaySink(): DisplaySink {
  return notebookSession().sink ?? (inTslabKernel() ? tslabSink() : textSink());
}

/** Displays one bundle in the current cell. */
export function displayBundle(bundle: MimeBundle): void {
  displaySink().display(bundle);
}

/** A display that can be redrawn in place (a progress bar, a live table). */
export interface LiveDisplay {
  /** Shows (first call) or replaces (later calls) the bundle. */
  update(bundle: MimeBundle): void;
}

/** Creates a display that updates in place (Jupyter's display_id mechanism). */
export function liveDisplay(): LiveDisplay {
  const id = randomBytes(8).toString("hex");
  let shown = false;
  return {
    update(bundle) {
      displaySink().display(bundle, id, shown);
      shown = true;
    },
  };
}
