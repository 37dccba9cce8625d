import * as ml from "../src/index";
async function main() {
  const ds = await ml.loadDataset("data/emoji-match-sample", { checkImages: false });
  const { codes: labels } = ml.labelCodes(ds.listings);
  const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
  const f = await ml.baselineFeatures(ds);
  const nbP = await ml.knnWithinFolds(f.pixels.data, f.pixels.dim, folds, { k: 30, label: null });
  const nbC = await ml.knnWithinFolds(f.chars.data, f.chars.dim, folds, { k: 30, label: null });
  const nbT = ml.sparseKnn(f.tfidf, { k: 30, folds, label: null });
  const table = ml.buildPairTable([{ name: "pixels", neighbours: nbP, embeddings: f.pixels }, { name: "chars", neighbours: nbC, embeddings: f.chars }, { name: "tfidf", neighbours: nbT, similarity: (i, j) => ml.sparseDot(f.tfidf, i, j) }], labels, { folds });
  let t = performance.now();
  for (let i = 0; i < 200; i++) ml.scorePairTable(table, { weights: [1, 0.5, 1], threshold: 0.4 + i / 1000 });
  console.log("eval ms", (performance.now() - t) / 200);
  for (const method of ["coordinate", "grid", "nelder-mead"] as const) for (const union of [false, true]) {
    t = performance.now();
    const r = ml.tuneEnsemble(table, { method, union });
    console.log(method, union, r.evals, r.score.f1.toFixed(4), (performance.now() - t).toFixed(0), "ms");
  }
}
main();
