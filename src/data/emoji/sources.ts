/**
 * Emoji art sets in Iconify JSON form (the `@iconify-json/*` npm packages): loading them, and
 * turning one icon into a complete SVG document (aliases, default sizes and flips resolved).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { env } from "../../env";

/** One icon in an Iconify JSON set; missing fields fall back to the set's defaults. */
export interface IconifyIcon {
  body: string;
  left?: number;
  top?: number;
  width?: number;
  height?: number;
  rotate?: number;
  hFlip?: boolean;
  vFlip?: boolean;
}

/** An alias: another name for `parent`, optionally with its own size or transform. */
export interface IconifyAlias extends Partial<Omit<IconifyIcon, "body">> {
  parent: string;
}

/** The contents of an Iconify `icons.json`. */
export interface IconifyJson {
  prefix: string;
  icons: Record<string, IconifyIcon>;
  aliases?: Record<string, IconifyAlias>;
  left?: number;
  top?: number;
  width?: number;
  height?: number;
}

/** The licence of an art set, from its `info.json`. */
export interface IconifyLicense {
  title: string;
  spdx?: string;
  url?: string;
}

/** An emoji art set: its icons, its licence, and (when the set ships one) its codepoint → icon name map. */
export interface IconifySource {
  /** The Iconify prefix, e.g. `noto`; becomes the `art_set` column. */
  prefix: string;
  /** The human name, e.g. "Noto Emoji". */
  name: string;
  license: IconifyLicense;
  author?: { name: string; url?: string };
  /** The npm package version the set came from, for the manifest. Defaults to "" (unknown). */
  version?: string;
  icons: IconifyJson;
  /** `chars.json`: lowercase codepoint sequence (`1f468-200d-1f3a8`) → icon name; absent or empty when the set has none. */
  chars?: Record<string, string>;
}

/** The nine open-licensed emoji art sets matchlab builds emoji-match from. */
export const EMOJI_ART_SETS: readonly string[] = Object.freeze([
  "noto",
  "twemoji",
  "openmoji",
  "fluent-emoji",
  "fluent-emoji-flat",
  "fluent-emoji-high-contrast",
  "emojione",
  "fxemoji",
  "streamline-emojis",
]);

/** A `require` rooted at the project, so packages resolve from its node_modules however npm hoisted them. */
export function projectRequire(root: string = env.root): NodeJS.Require {
  return createRequire(path.join(root, "package.json"));
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function iconifyDir(prefix: string, root: string): string {
  if (!EMOJI_ART_SETS.includes(prefix)) {
    throw new Error(`unknown art set: ${prefix} (expected ${EMOJI_ART_SETS.join("|")})`);
  }
  try {
    return path.dirname(projectRequire(root).resolve(`@iconify-json/${prefix}/package.json`));
  } catch {
    throw new Error(`art set ${prefix}: package @iconify-json/${prefix} is not installed (run npm install)`);
  }
}

/** The installed version of `@iconify-json/<prefix>` (cheap: reads only its package.json). */
export function iconifyVersion(prefix: string, root: string = env.root): string {
  return String(readJson(path.join(iconifyDir(prefix, root), "package.json")).version ?? "");
}

/**
 * Loads emoji art sets from the installed `@iconify-json/<prefix>` packages.
 * @example
 * const sources = loadIconifySources(["noto", "twemoji"]);
 */
export function loadIconifySources(prefixes: readonly string[] = EMOJI_ART_SETS, root: string = env.root): IconifySource[] {
  const out: IconifySource[] = [];
  for (const prefix of prefixes) {
    const dir = iconifyDir(prefix, root);
    const info = readJson(path.join(dir, "info.json"));
    const pkg = readJson(path.join(dir, "package.json"));
    const icons = readJson(path.join(dir, "icons.json")) as IconifyJson;
    const charsFile = path.join(dir, "chars.json");
    const chars = existsSync(charsFile) ? (readJson(charsFile) as Record<string, string>) : undefined;
    if (!info.license?.title) throw new Error(`art set ${prefix}: ${path.join(dir, "info.json")} has no license.title`);
    out.push({
      prefix,
      name: String(info.name ?? prefix),
      license: { title: info.license.title, spdx: info.license.spdx, url: info.license.url },
      author: info.author,
      version: String(pkg.version ?? ""),
      icons,
      chars,
    });
  }
  return out;
}

/** An icon with aliases followed and every default filled in. */
export interface ResolvedIcon {
  /** The name of the icon that holds the body (after following aliases). */
  bodyName: string;
  body: string;
  left: number;
  top: number;
  width: number;
  height: number;
  /** Quarter turns clockwise, 0–3. */
  rotate: number;
  hFlip: boolean;
  vFlip: boolean;
}

/** Follows aliases to the icon body, combining transforms as Iconify does; returns null when the name is unknown. */
export function resolveIcon(set: IconifyJson, name: string): ResolvedIcon | null {
  const chain: IconifyAlias[] = [];
  let cur = name;
  const seen = new Set<string>();
  while (!set.icons[cur]) {
    const alias = set.aliases?.[cur];
    if (!alias || seen.has(cur)) return null;
    seen.add(cur);
    chain.push(alias);
    cur = alias.parent;
  }
  const icon = set.icons[cur]!;
  const r: ResolvedIcon = {
    bodyName: cur,
    body: icon.body,
    left: icon.left ?? set.left ?? 0,
    top: icon.top ?? set.top ?? 0,
    width: icon.width ?? set.width ?? 16,
    height: icon.height ?? set.height ?? 16,
    rotate: (icon.rotate ?? 0) % 4,
    hFlip: !!icon.hFlip,
    vFlip: !!icon.vFlip,
  };
  // Apply aliases from the one nearest the body outwards: sizes override, transforms combine.
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = chain[i]!;
    if (a.left !== undefined) r.left = a.left;
    if (a.top !== undefined) r.top = a.top;
    if (a.width !== undefined) r.width = a.width;
    if (a.height !== undefined) r.height = a.height;
    r.rotate = (r.rotate + (a.rotate ?? 0)) % 4;
    if (a.hFlip) r.hFlip = !r.hFlip;
    if (a.vFlip) r.vFlip = !r.vFlip;
  }
  return r;
}

/**
 * A complete, standalone SVG document for a resolved icon, drawn into a `size`×`size` box
 * (aspect ratio kept, centred). Flips and rotation become a wrapping `<g transform>`, as in Iconify.
 */
export function iconSvg(icon: ResolvedIcon, size: number): string {
  let { left, top, width, height } = icon;
  const transforms: string[] = [];
  if (icon.hFlip) {
    if (icon.vFlip) icon = { ...icon, rotate: (icon.rotate + 2) % 4 };
    else {
      transforms.push(`translate(${width + left} ${-top})`, "scale(-1 1)");
      left = top = 0;
    }
  } else if (icon.vFlip) {
    transforms.push(`translate(${-left} ${height + top})`, "scale(1 -1)");
    left = top = 0;
  }
  let rot: string | null = null;
  switch (icon.rotate) {
    case 1:
      rot = `rotate(90 ${height / 2 + top} ${height / 2 + top})`;
      break;
    case 2:
      rot = `rotate(180 ${width / 2 + left} ${height / 2 + top})`;
      break;
    case 3:
      rot = `rotate(-90 ${width / 2 + left} ${width / 2 + left})`;
      break;
    default:
      break;
  }
  if (rot) transforms.unshift(rot);
  if (icon.rotate % 2 === 1) {
    [left, top] = [top, left];
    [width, height] = [height, width];
  }
  const body = transforms.length ? `<g transform="${transforms.join(" ")}">${icon.body}</g>` : icon.body;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${size}" height="${size}" viewBox="${left} ${top} ${width} ${height}">${body}</svg>`
  );
}
