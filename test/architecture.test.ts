/**
 * The layering of src/ (ARCHITECTURE.md): every import in src/ reaches its own layer or a lower
 * one, never a higher one; metrics/, ensemble/ and plots/ stay free of tfjs, danfo and tslab; only
 * notebook/ talks to tslab; CLI commands never import each other.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(__dirname, "../src");

/** The layers, lowest first; a module may import its own layer and the ones before it. */
const LAYERS = Object.freeze(["core", "backend", "data", "augment", "folds", "metrics", "losses", "heads", "models", "embeddings", "retrieval", "ensemble", "train", "plots", "notebook", "cli", "index"]);

/** The layer of a file under src/: its top folder, "core" for env/rng/progress/config, "index" for the public surface. */
function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length === 1) return rel[0] === "index.ts" ? "index" : "core";
  return rel[0]!;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts|mjs)$/.test(f) ? [p] : [];
  });
}

/** Every import specifier of a source file (static, re-export and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) out.push(m[1]!);
  return out;
}

const files = walk(SRC);

describe("src/ layering", () => {
  it("knows the layer of every folder", () => {
    for (const f of files) expect(LAYERS, path.relative(SRC, f)).toContain(layerOf(f));
  });

  it("has no import that reaches a higher layer", () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = LAYERS.indexOf(layerOf(f));
      for (const spec of importsOf(f)) {
        if (!spec.startsWith(".")) continue;
        const target = path.resolve(path.dirname(f), spec);
        const to = LAYERS.indexOf(layerOf(target.endsWith(".ts") ? target : `${target}.ts`));
        if (to > from) bad.push(`${path.relative(SRC, f)} (${layerOf(f)}) imports ${spec} (${LAYERS[to]})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("keeps metrics, ensemble and plots free of tfjs, danfo and tslab, and tslab inside notebook", () => {
    const bad: string[] = [];
    for (const f of files) {
      const layer = layerOf(f);
      for (const spec of importsOf(f)) {
        if (["metrics", "ensemble", "plots"].includes(layer) && /^(@tensorflow\/|danfojs|tslab)/.test(spec)) bad.push(`${path.relative(SRC, f)} imports ${spec}`);
        if (layer !== "notebook" && /^tslab/.test(spec)) bad.push(`${path.relative(SRC, f)} imports ${spec} (only notebook/ may)`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("CLI commands import the shared module and the library, never each other", () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => layerOf(x) === "cli" && !x.endsWith("main.ts"))) {
      for (const spec of importsOf(f)) if (spec.startsWith("./") && spec !== "./common") bad.push(`${path.relative(SRC, f)} imports ${spec}`);
    }
    expect(bad).toEqual([]);
  });

  it("the test catches an upward import (the checker itself works)", () => {
    const f = path.join(SRC, "metrics", "x.ts");
    expect(LAYERS.indexOf(layerOf(f))).toBeLessThan(LAYERS.indexOf(layerOf(path.resolve(path.dirname(f), "../train/run.ts"))));
    expect(importsOf(path.join(SRC, "cli", "main.ts"))).toContain("./train");
  });
});
