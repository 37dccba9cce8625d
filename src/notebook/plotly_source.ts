/**
 * The bundled plotly.js (node_modules/plotly.js-dist), read from disk, never from a CDN.
 * plotly.js-dist ships only the 11 MB unminified build; it is minified once with esbuild (a
 * dependency of tsx, so always installed) and cached under `env.cacheDir/plotly/`. When esbuild
 * is unavailable the unminified source is used as is.
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { env } from "../env";
import { writeFileAtomic } from "../fs_atomic";

/** A string that occurs exactly once in every inlined copy of plotly.js (count it to check "once per notebook"). */
export const PLOTLY_SIGNATURE = "matchlab-inline-plotly.js";

let cached: { version: string; source: string } | null = null;

function projectRequire(): NodeJS.Require {
  return createRequire(path.join(env.root, "package.json"));
}

/** The path and version of the bundled plotly.js. */
export function plotlyDist(): { file: string; version: string } {
  const dir = path.join(env.root, "node_modules", "plotly.js-dist");
  const pkg = path.join(dir, "package.json");
  if (!existsSync(pkg)) throw new Error(`plotly.js-dist is not installed at ${dir} (run npm ci in ${env.root})`);
  const version = String(JSON.parse(readFileSync(pkg, "utf8")).version);
  return { file: path.join(dir, "plotly.js"), version };
}

/**
 * The plotly.js source to inline (minified, cached on disk), with a `/*! … *\/` banner carrying
 * {@link PLOTLY_SIGNATURE}. Safe inside an HTML `<script>` element.
 */
export function plotlySource(): { version: string; source: string } {
  if (cached) return cached;
  const { file, version } = plotlyDist();
  const cacheFile = path.join(env.cacheDir, "plotly", `plotly-${version}.min.js`);
  let code: string | null = null;
  if (existsSync(cacheFile)) code = readFileSync(cacheFile, "utf8");
  else {
    const raw = readFileSync(file, "utf8");
    try {
      const esbuild = projectRequire()("esbuild") as { transformSync(src: string, o: object): { code: string } };
      code = esbuild.transformSync(raw, { minify: true, legalComments: "none", charset: "utf8" }).code;
      writeFileAtomic(cacheFile, code);
    } catch {
      code = raw; // no esbuild: inline the unminified build (larger, same behaviour)
    }
  }
  // "</script" or "<!--" would end or confuse the HTML <script> element holding the source
  const safe = code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
  cached = { version, source: `/*! ${PLOTLY_SIGNATURE} v${version} (MIT licence, Plotly, Inc.) */\n${safe}` };
  return cached;
}
