// The library build notebooks import (scripts/notebook_lib.cjs), on a small throw-away project:
// built when missing, rebuilt when src/ changes, refused when stale and unbuildable, and
// `reload()` swaps in new code in a running process.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const req = createRequire(path.join(root, "package.json"));

interface Lib {
  libState(root: string): { fresh: boolean; hash: string };
  ensureLib(root: string): { hash: string; rebuilt: boolean };
  library(root: string): Record<string, unknown> & { reload(): { hash: string; rebuilt: boolean } };
  lazyRequires(code: string): string;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "matchlab-nblib-"));
mkdirSync(path.join(tmp, "src"));
mkdirSync(path.join(tmp, "scripts"));
for (const f of ["tsconfig.json", "tsconfig.lib.json", "scripts/notebook_lib.cjs"]) cpSync(path.join(root, f), path.join(tmp, f));
writeFileSync(path.join(tmp, "package.json"), '{ "name": "nblib-test", "type": "module" }\n');
symlinkSync(path.join(root, "node_modules"), path.join(tmp, "node_modules"));
const writeSrc = (version: string, extra = "") =>
  writeFileSync(path.join(tmp, "src", "index.ts"), `export { twice } from "./twice";\nexport const version: string = ${JSON.stringify(version)};\n${extra}`);
writeFileSync(path.join(tmp, "src", "twice.ts"), "export function twice(x: number): number {\n  return 2 * x;\n}\n");
writeSrc("one");
// the copy's own notebook_lib.cjs, so that its ROOT and require() resolve inside the copy
const lib = req(path.join(tmp, "scripts", "notebook_lib.cjs")) as Lib;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("notebook library build (dist/)", () => {
  it("builds when missing, then is fresh; a src change makes it stale and the import rebuilds it", { timeout: 400_000 }, () => {
    expect(lib.libState(tmp).fresh).toBe(false);
    expect(lib.ensureLib(tmp).rebuilt).toBe(true);
    expect(existsSync(path.join(tmp, "dist", "index.d.ts"))).toBe(true);
    expect(existsSync(path.join(tmp, "dist", "types", "index.d.ts"))).toBe(true);
    expect(lib.libState(tmp).fresh).toBe(true);
    expect(lib.ensureLib(tmp).rebuilt).toBe(false);

    const ml = lib.library(tmp);
    expect(ml.version).toBe("one");
    expect((ml.twice as (x: number) => number)(4)).toBe(8);
    expect(ml.__esModule).toBe(true);
    expect(Object.keys(ml)).toEqual(expect.arrayContaining(["twice", "version", "reload"]));

    writeSrc("two");
    expect(lib.libState(tmp).fresh).toBe(false);
    // the loaded library keeps running the code it loaded until reload()
    expect(ml.version).toBe("one");
    const info = ml.reload();
    expect(info.rebuilt).toBe(true);
    expect(ml.version).toBe("two");
    expect(lib.libState(tmp).fresh).toBe(true);
    expect(ml.reload().rebuilt).toBe(false);

    // a new importer of a stale build gets a rebuilt one, never the old code
    writeSrc("three");
    expect(lib.library(tmp).version).toBe("three");
  });

  it("refuses a stale build that cannot be rebuilt, naming why", { timeout: 300_000 }, () => {
    writeSrc("four", "export const broken: number = 'not a number';\n");
    expect(() => lib.ensureLib(tmp)).toThrow(/dist\/ is older than src\/ and could not be rebuilt.*\n.*tsc/);
    expect(() => lib.library(tmp)).toThrow(/will not run stale code/);
    expect(lib.libState(tmp).fresh).toBe(false);
    writeSrc("five");
    expect(lib.library(tmp).version).toBe("five");
  });

  it("makes plain named requires of the lazy packages lazy and leaves other forms alone", () => {
    const code = 'var import_danfojs_node = require("danfojs-node");\nvar import_sharp = __toESM(require("sharp"), 1);\n';
    const out = lib.lazyRequires(code);
    expect(out).toContain('var import_danfojs_node = __matchlabLazy("danfojs-node");');
    expect(out).toContain('var import_sharp = __toESM(require("sharp"), 1);');
  });
});
