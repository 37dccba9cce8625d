import * as ml from "../src/index";
async function main() {
  const ds = await ml.loadDataset("data/emoji-match-sample", { checkImages: false });
  const { codes: labels } = ml.labelCodes(ds.listings);
  const folds = ml.groupKFold(Array.from(labels), { k: 5 }).assignment;
  const f = await ml.baselineFeatures(ds);
  for (const [name, b] of [["pixels", f.pixels], ["chars", f.chars]] as const) {
    const nb = await ml.knnWithinFolds(b.data, b.dim, folds, { k: 30, label: null });
    const base = ml.bestThreshold(nb, labels);
    console.log(name, "base", base.f1.toFixed(4), (1 - base.threshold).toFixed(3));
    for (const minSim of [0, 1 - base.threshold, 1 - base.threshold / 2]) for (const topK of [2, 3, 5]) for (const stages of [1, 2]) {
      let x = b.data; let nbx = nb;
      for (let s = 0; s < stages; s++) { x = ml.neighbourhoodBlend(x, b.dim, nbx, { topK, minSimilarity: minSim }); nbx = await ml.knnWithinFolds(x, b.dim, folds, { k: 30, label: null }); }
      console.log(name, `minSim ${minSim.toFixed(2)} topK ${topK} stages ${stages}`, ml.bestThreshold(nbx, labels).f1.toFixed(4), ml.bestThreshold(nbx, labels, {min2:false}).f1.toFixed(4));
    }
  }
}
main();
