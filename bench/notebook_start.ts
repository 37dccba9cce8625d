/**
 * `npm run bench -- notebook-start`: how long a notebook's first cell takes in a started kernel,
 * through the real kernel ("matchlab (TypeScript)", `jupyter nbconvert --execute`, i.e. nbclient).
 *
 * Cases, each a one-cell notebook: `one-plus-one` (`1 + 1`: tslab's own start), `import` with impl
 * `dist` (`import * as ml from "./dist/index"`, what notebooks do: declarations + bundle, see
 * scripts/notebook_lib.cjs) and impl `src` (`import * as ml from "./src/index"`, what they did
 * before: tslab type-checks and compiles all of src/). Rounds are interleaved (each round runs every
 * case once). `ms` is the cell's time from nbclient's timestamps (the kernel's `busy` → `idle`
 * status messages: type-check, compile and run), min over rounds, with `ms_median` and `ms_rounds`; `total_ms_median` is the
 * whole nbconvert run (kernel start + cell + shutdown). dist/ is built before the first round (its
 * build time is not counted). `--smoke` runs one round of the dist case without timing claims.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { intFlag, parseFlags } from "../src/cli/common";
import { median } from "./lib/common";

interface JupyterHelpers {
  root: string;
  KERNEL: string;
  jupyterEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  writeKernelSpec(): string;
  findJupyter(): string | null;
}

const FLAGS = {
  rounds: { type: "string", default: "5", help: "interleaved rounds (each runs every case once)" },
  impls: { type: "string", default: "dist,src", help: "import cases to run: dist (notebooks now), src (tslab compiles src/, as before)" },
  smoke: { type: "boolean", default: false, help: "one round of the 1 + 1 and dist cases (checks the bench works)" },
} as const;

const CELLS: Readonly<Record<string, { case: string; impl: string; source: string }>> = Object.freeze({
  "one-plus-one": { case: "one-plus-one", impl: "tslab", source: "1 + 1" },
  dist: { case: "import", impl: "dist", source: 'import * as ml from "./dist/index";\nml.env.root' },
  src: { case: "import", impl: "src", source: 'import * as ml from "./src/index";\nml.env.root' },
});

function notebook(source: string, kernel: string): string {
  return JSON.stringify({
    cells: [{ cell_type: "code", execution_count: null, id: "c0", metadata: {}, outputs: [], source }],
    metadata: { kernelspec: { display_name: "matchlab (TypeScript)", language: "typescript", name: kernel } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

async function main(): Promise<void> {
  const p = parseFlags("bench notebook-start", "how long a notebook's first cell takes in a started kernel", FLAGS, process.argv.slice(2));
  if (!p) return;
  const smoke = p.values.smoke === true;
  const rounds = smoke ? 1 : intFlag(p, "rounds", 5);
  const impls = smoke ? ["dist"] : String(p.values.impls).split(",").map((s) => s.trim()).filter(Boolean);
  const j = (await import("../scripts/jupyter.mjs" as string)) as JupyterHelpers;
  const jupyter = j.findJupyter();
  if (!jupyter) {
    console.log(JSON.stringify({ bench: "notebook-start", skipped: "Jupyter with nbconvert is missing (npm run setup)" }));
    return;
  }
  j.writeKernelSpec();
  const lib = createRequire(path.join(j.root, "package.json"))("./scripts/notebook_lib.cjs") as { ensureLib(root: string, o?: { log?: (m: string) => void }): { rebuilt: boolean } };
  lib.ensureLib(j.root, { log: (m) => console.error(m) });
  for (const i of impls) if (!(i in CELLS) || i === "one-plus-one") throw new Error(`--impls: unknown ${i} (expected dist|src)`);
  const keys = ["one-plus-one", ...impls];
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-nbstart-"));
  const cellMs = new Map<string, number[]>(keys.map((k) => [k, []]));
  const totalMs = new Map<string, number[]>(keys.map((k) => [k, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const k of keys) {
        const file = path.join(dir, `${k}.ipynb`);
        writeFileSync(file, notebook(CELLS[k]!.source, j.KERNEL));
        const t0 = performance.now();
        const run = spawnSync(
          jupyter,
          ["nbconvert", "--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${j.KERNEL}`, "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.record_timing=True", "--output-dir", path.join(dir, "out"), file],
          { cwd: j.root, env: j.jupyterEnv({ MATCHLAB_QUIET: "1" }), encoding: "utf8" },
        );
        const total = performance.now() - t0;
        if (run.status !== 0) throw new Error(`notebook-start ${k}: nbconvert failed:\n${`${run.stderr}`.trim().split("\n").slice(-20).join("\n")}`);
        const out = JSON.parse(readFileSync(path.join(dir, "out", `${k}.ipynb`), "utf8")) as {
          cells: { metadata: { execution?: Record<string, string> }; outputs: { output_type: string }[] }[];
        };
        const cell = out.cells[0]!;
        if (cell.outputs.some((o) => o.output_type === "error")) throw new Error(`notebook-start ${k}: the cell raised an error`);
        const ex = cell.metadata.execution;
        // tslab sends no execute_input: the cell's span is the kernel's busy → idle status messages
        if (!ex?.["iopub.status.busy"] || !ex["iopub.status.idle"]) throw new Error(`notebook-start ${k}: nbclient recorded no cell timing (metadata.execution)`);
        cellMs.get(k)!.push(Date.parse(ex["iopub.status.idle"]) - Date.parse(ex["iopub.status.busy"]));
        totalMs.get(k)!.push(total);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const k of keys) {
    const ms = cellMs.get(k)!;
    const c = CELLS[k]!;
    console.log(
      JSON.stringify({
        bench: "notebook-start",
        case: c.case,
        impl: c.impl,
        ms: Math.min(...ms),
        ms_median: median(ms),
        ms_rounds: ms,
        total_ms_median: Math.round(median(totalMs.get(k)!)),
        rounds,
        ...(smoke ? { smoke: true } : {}),
      }),
    );
  }
}

main().catch((e: Error) => {
  console.error(`bench notebook-start: ${e.message}`);
  process.exit(1);
});
