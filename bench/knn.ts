/**
 * `npm run bench -- knn [--n 70000] [--dim 512] [--k 50] [--ef 64,128] [--skip-slow] [--skip-faiss]`: top-k exact search over synthetic
 * clustered embeddings (categories → product groups of 1–5 → listings, L2-normalised) on every
 * exact engine, FAISS IndexFlatIP as the peer (/usr/bin/python3 bench/knn_faiss.py, same run,
 * same threads), and the ANN libraries with their recall@k against exact. One JSON line each.
 * Slow engines (tfjs, js) run a query subset against the full gallery and are extrapolated.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/index";
import { annSearch, knnRecall } from "../src/retrieval/ann";
import { type KnnResult, knnSearch } from "../src/retrieval/knn";
import { l2NormalizeRows } from "../src/retrieval/vectors";
import { Rng } from "../src/rng";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "70000" },
    dim: { type: "string", default: "512" },
    k: { type: "string", default: "50" },
    ef: { type: "string", default: "64,128" },
    "skip-slow": { type: "boolean", default: false },
    "skip-faiss": { type: "boolean", default: false },
  },
});
const n = Number(values.n);
const dim = Number(values.dim);
const k = Number(values.k);
const efs = String(values.ef).split(",").map(Number);
const threads = os.availableParallelism();
const caseName = `${n}x${dim} top-${k}`;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: "knn", case: caseName, ...o }));
const gflops = (rows: number, ms: number) => Math.round((2 * rows * n * dim) / ms / 1e5) / 10;

/** Categories → groups of 1–5 → listings, like real product embeddings (many near-duplicates, a long tail). */
function synthetic(seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim);
  const cats = Math.max(1, Math.round(n / 70));
  const catCentres = new Float32Array(cats * dim);
  for (let i = 0; i < catCentres.length; i++) catCentres[i] = rng.normal();
  const g = new Float32Array(dim);
  let row = 0;
  while (row < n) {
    const c = rng.int(cats);
    for (let j = 0; j < dim; j++) g[j] = catCentres[c * dim + j]! + 0.9 * rng.normal();
    const size = Math.min(n - row, 1 + rng.int(5));
    for (let s = 0; s < size; s++, row++) for (let j = 0; j < dim; j++) x[row * dim + j] = g[j]! + 0.45 * rng.normal();
  }
  return l2NormalizeRows(x, dim);
}

/** CPU milliseconds (user + system, all threads) since `start`. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function subsetRecall(a: KnnResult, exact: KnnResult, rows: number): number {
  const head = (r: KnnResult): KnnResult => ({ ...r, n: rows, indices: r.indices.subarray(0, rows * r.k), distances: r.distances.subarray(0, rows * r.k) });
  return knnRecall(head(a), head(exact));
}

async function main() {
  const info = await initBackend({ log: () => {} }).catch(() => null);
  const t0 = performance.now();
  const x = synthetic(0);
  emit({ impl: "data", ms: Math.round(performance.now() - t0), note: "synthetic clustered embeddings", threads, machine: `${os.cpus().length} cpu, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}` });

  // exact: onnx (full)
  // cpu_ms (all threads of the process) is reported beside wall time: on a shared machine it is the fairer comparison
  let t = performance.now();
  let cpu = process.cpuUsage();
  const exact = await knnSearch(x, dim, { k, engine: "onnx", threads, label: null });
  const onnxMs = performance.now() - t;
  const onnxCpu = cpuMs(cpu);
  emit({ impl: "onnx-mlas", ms: Math.round(onnxMs), cpu_ms: Math.round(onnxCpu), threads, gflops: gflops(n, onnxMs), queries: n });

  // exact: tfjs and js on a query subset, extrapolated
  if (!values["skip-slow"]) {
    for (const [engine, rows] of [
      ["tfjs", 1024],
      ["js", 128],
    ] as const) {
      const q = x.subarray(0, rows * dim);
      t = performance.now();
      cpu = process.cpuUsage();
      const r = await knnSearch(x, dim, { k, engine, queries: q, label: null });
      const ms = performance.now() - t;
      emit({
        impl: engine === "tfjs" ? `tfjs-${tf.getBackend()}` : "js",
        ms: Math.round((ms * n) / rows),
        cpu_ms: Math.round((cpuMs(cpu) * n) / rows),
        extrapolated_from_queries: rows,
        measured_ms: Math.round(ms),
        gflops: gflops(rows, ms),
        agrees_with_onnx: subsetRecall(r, exact, rows),
        backend: info ? tf.getBackend() : undefined,
      });
    }
  }

  // FAISS peer
  const file = path.join(os.tmpdir(), `matchlab_knn_${process.pid}.f32`);
  writeFileSync(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  try {
    if (values["skip-faiss"]) emit({ impl: "faiss-IndexFlatIP", skipped: "--skip-faiss" });
    else if (!existsSync("/usr/bin/python3")) emit({ impl: "faiss-IndexFlatIP", skipped: "/usr/bin/python3 not found" });
    else {
      const r = spawnSync("/usr/bin/python3", [path.join("bench", "knn_faiss.py"), file, String(n), String(dim), String(k), String(threads)], { encoding: "utf8" });
      const line = r.stdout.trim().split("\n").pop() ?? "";
      if (r.status !== 0 || !line.startsWith("{")) emit({ impl: "faiss-IndexFlatIP", skipped: `faiss run failed: ${r.stderr.trim().split("\n").pop()}` });
      else {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (existsSync(`${file}.faiss_idx`)) {
          const buf = readFileSync(`${file}.faiss_idx`);
          const fi = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
          o.agrees_with_onnx = knnRecall({ ...exact, indices: fi }, exact);
          if (typeof o.ms === "number") o.onnx_over_faiss = Math.round((onnxMs / o.ms) * 100) / 100;
          if (typeof o.cpu_ms === "number") o.onnx_over_faiss_cpu = Math.round((onnxCpu / o.cpu_ms) * 100) / 100;
        }
        const { bench: _b, case: _c, ...rest } = o;
        emit(rest);
      }
    }
  } finally {
    rmSync(file, { force: true });
    rmSync(`${file}.faiss_idx`, { force: true });
  }

  // ANN: usearch at several ef, full; hnswlib on a subset vs usearch on the same subset
  for (const ef of efs) {
    cpu = process.cpuUsage();
    const r = await annSearch(x, dim, { k, library: "usearch", expansionSearch: ef, threads, label: null });
    const annCpu = cpuMs(cpu);
    emit({
      impl: "usearch-hnsw",
      ef,
      build_ms: Math.round(r.buildMs),
      ms: Math.round(r.searchMs),
      cpu_ms_build_and_search: Math.round(annCpu),
      recall_at_k: Math.round(knnRecall(r, exact) * 10000) / 10000,
      speedup_vs_exact: Math.round((onnxMs / r.searchMs) * 10) / 10,
      speedup_incl_build: Math.round((onnxMs / (r.buildMs + r.searchMs)) * 10) / 10,
      speedup_cpu_incl_build: Math.round((onnxCpu / annCpu) * 10) / 10,
    });
  }
  const sub = Math.min(n, 10_000);
  const xs = x.subarray(0, sub * dim);
  const exactSub = await knnSearch(xs, dim, { k, engine: "onnx", threads, label: null });
  for (const library of ["usearch", "hnswlib"] as const) {
    const ef = efs[1] ?? efs[0]!;
    const r = await annSearch(xs, dim, { k, library, expansionSearch: ef, threads, label: null });
    emit({ impl: `${library}-hnsw`, subset: sub, ef, build_ms: Math.round(r.buildMs), ms: Math.round(r.searchMs), recall_at_k: Math.round(knnRecall(r, exactSub) * 10000) / 10000 });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
