import { knnSearch, bestThreshold } from "./src/retrieval/index";
import { loadConfig, prepareTask, trainRun, overrideConfig } from "./src/train/index";
import { initBackend } from "./src/backend/index";
await initBackend({ backend: "wasm" });
const base = () => loadConfig("configs/quick.yaml");
const task = await prepareTask(base(), { progressBars: false });
// raw n-gram baseline
{
  const D = task.data.textDim; const v = task.valid;
  const x = new Float32Array(v.length * D); v.forEach((r, i) => x.set((task.data.text as Float32Array).subarray(r * D, (r + 1) * D), i * D));
  const nb = await knnSearch(x, D, { k: 50, engine: "js", label: null });
  console.log("raw ngram val F1", bestThreshold(nb, Int32Array.from(v, (r) => task.data.groups[r]!)).f1);
  const S = task.data.imageSize * task.data.imageSize * 3;
  const y = new Float32Array(v.length * S); v.forEach((r, i) => y.set(task.data.images.subarray(r * S, (r + 1) * S), i * S));
  const nb2 = await knnSearch(y, S, { k: 50, engine: "js", label: null });
  console.log("raw pixel val F1", bestThreshold(nb2, Int32Array.from(v, (r) => task.data.groups[r]!)).f1);
}
const variants: Record<string, string[]> = {
  small: ["model.image.widths=[8,16,32]"],
  small_3heads: ["model.image.widths=[8,16,32]", 'heads={"fused":{"kind":"arcface","s":30,"m":0.2},"text":{"kind":"arcface","s":30,"m":0.2},"image":{"kind":"arcface","s":30,"m":0.2}}'],
  small_s16: ["model.image.widths=[8,16,32]", 'heads={"fused":{"kind":"arcface","s":16,"m":0.1}}', "optim.lr=0.005"],
};
for (const [name, sets] of Object.entries(variants)) {
  const c = base();
  for (const kv of sets) { const eq = kv.indexOf("="); const k = kv.slice(0, eq); const val = kv.slice(eq + 1); if (k === "heads") (c as any).heads = Object.fromEntries(Object.entries(JSON.parse(val)).map(([b, h]: any) => [b, { k: 3, easy_margin: false, weight: 1, ...h }])); else overrideConfig(c, k, val); }
  c.train.log_period = 0;
  const t0 = Date.now();
  const r = await trainRun(c, { runsDir: "/tmp/mlexp", progressBars: false, skipBackend: true, log: () => {} });
  console.log(name, JSON.stringify({ best: r.best_val_f1, untrained: r.untrained_val_f1, final: r.final_val_f1, steps: r.steps, s: (Date.now() - t0) / 1000 }));
}
