import * as ml from "../src/index";
async function main() {
  const ds = await ml.loadDataset(process.env.DS ?? "data/emoji-match-sample", { checkImages: false });
  const { codes: labels } = ml.labelCodes(ds.listings);
  const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
  const f = await ml.baselineFeatures(ds);
  const k = 30;
  const nbP = await ml.knnWithinFolds(f.pixels.data, f.pixels.dim, folds, { k, label: null });
  const nbC = await ml.knnWithinFolds(f.chars.data, f.chars.dim, folds, { k, label: null });
  const nbT = ml.sparseKnn(f.tfidf, { k, folds, label: null });
  for (const [name, nb] of [["pixels", nbP], ["chars", nbC], ["tfidf", nbT]] as const) {
    const b = ml.bestThreshold(nb, labels);
    console.log(name, b.threshold.toFixed(3), b.f1.toFixed(4), "map@r", ml.mapAtR(nb, labels).toFixed(4));
  }
  const table = ml.buildPairTable([
    { name: "pixels", neighbours: nbP, embeddings: f.pixels },
    { name: "chars", neighbours: nbC, embeddings: f.chars },
    { name: "tfidf", neighbours: nbT, similarity: (i, j) => ml.sparseDot(f.tfidf, i, j) },
  ], labels, { folds });
  console.log("pairs", table.cols.length);
  let t = performance.now();
  const rows = ml.ensembleReport(table, { methods: ["coordinate", "nelder-mead", "grid"] });
  console.log("report ms", performance.now() - t);
  for (const r of rows) console.log(r.combination.padEnd(22), r.method.padEnd(12), r.f1.toFixed(4), r.cvF1.toFixed(4), r.weights.map((w) => w.toFixed(2)).join(","), r.threshold.toFixed(3), JSON.stringify(r.branchThresholds));
  const ph = ml.exactKeyMatches(f.phash);
  console.log("phash alone F1", ml.matchF1(ph, labels).toFixed(4));
}
main();
