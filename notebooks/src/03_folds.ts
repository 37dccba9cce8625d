// %% [markdown]
// # 03 · Fold design
// Which validation split should we trust: random, grouped, or labels never seen in training?

// %%
import * as ml from "./dist/index";
const ds = await ml.loadDataset(ml.env.dataset);
const groups = ds.listings.map((l) => l.labelGroup);
const sizeOf = ml.listingGroupSizes(ds.listings);
const bucket = ds.listings.map((l) => ml.sizeBucket(sizeOf.get(l.labelGroup)!, 5));
const K = 5;
const SEED = ml.env.seed;
console.log(`${ds.listings.length} listings, ${sizeOf.size} label groups, k = ${K}, seed = ${SEED}`);

// %% [markdown]
// ## Five schemes
// - **random**: `kfold` shuffled — a listing and its matches land anywhere.
// - **stratified**: every `label_group` spread over the folds (seen-label classification).
// - **group**: whole groups per fold, largest first (sklearn's GroupKFold).
// - **stratified-group**: whole groups per fold, with each fold's group-size mix kept equal (y = group-size bucket).
// - **unseen**: whole groups dealt at random — validation labels are never in training (the Shopee test setting).
//
// Unshuffled kfold, stratified, group and stratified-group equal scikit-learn's assignments row for row (tested against sklearn).

// %%
const splits: Record<string, ml.FoldSplit> = {
  random: ml.kFold(ds.listings.length, { k: K, shuffle: true, seed: SEED }),
  stratified: ml.stratifiedKFold(groups, { k: K, shuffle: true, seed: SEED }),
  group: ml.groupKFold(groups, { k: K }),
  "stratified-group": ml.stratifiedGroupKFold(bucket, groups, { k: K }),
  unseen: ml.unseenLabelSplit(groups, { k: K, seed: SEED }),
};
for (const [name, s] of Object.entries(splits)) for (const w of s.warnings) console.log(`${name}: ${w}`);

// %% [markdown]
// ## Fold sizes

// %%
ml.table(Object.entries(splits).map(([name, s]) => ({ scheme: name, ...Object.fromEntries(s.folds.map((f, i) => [`fold ${i}`, f.valid.length])) })));

// %% [markdown]
// ## Leakage: validation groups that also appear in training
// The check behind every grouped split. Random and stratified folds leak by design; grouped ones must not.

// %%
const leakRows = Object.entries(splits).map(([name, s]) => {
  const sum = ml.foldSummary(s, groups);
  const vg = sum.reduce((a, r) => a + r.validGroups, 0);
  const lg = sum.reduce((a, r) => a + r.leakedGroups, 0);
  return { scheme: name, "validation groups": vg, "also in train": lg, "leaked share": lg / vg };
});
ml.table(leakRows);
ml.show(ml.barChart({ labels: leakRows.map((r) => r.scheme), values: leakRows.map((r) => r["leaked share"]), title: "share of validation label groups also seen in training", yTitle: "share" }));

// %%
for (const name of ["group", "stratified-group", "unseen"]) ml.assertNoLeakage(splits[name]!, groups);
console.log("grouped schemes: no label_group on both sides of any fold");
try {
  ml.assertNoLeakage(splits.random!, groups);
} catch (err) {
  console.log(`random: ${(err as Error).message.split("\n").slice(0, 3).join("\n")}`);
}

// %% [markdown]
// ## Group-size mix per fold
// Share of each fold's validation rows by the size of their label group. Stratified-group keeps the mix equal by construction; largest-first GroupKFold often lands close (on data where each group has one size bucket the two greedy orders can coincide); the random unseen split varies more.

// %%
const buckets = ["2", "3", "4", "5+"].filter((b) => bucket.includes(b));
for (const name of ["group", "stratified-group", "unseen"]) {
  const s = splits[name]!;
  const z = s.folds.map((f) => {
    const counts = buckets.map(() => 0);
    for (const i of f.valid) counts[buckets.indexOf(bucket[i]!)]! += 1;
    return counts;
  });
  ml.show(ml.heatmapChart({ z, xLabels: buckets.map((b) => `size ${b}`), yLabels: s.folds.map((_, i) => `fold ${i}`), normalise: "row", title: `${name}: group-size mix of validation rows`, height: 280 }));
}

// %% [markdown]
// ## Label distribution per fold
// For the seen-label schemes: in how many folds does each label_group have validation rows? Stratified spreads every group; grouped schemes keep each in one fold.

// %%
const foldsPerGroup = (s: ml.FoldSplit) => {
  const m = new Map<string, Set<number>>();
  groups.forEach((g, i) => m.set(g, (m.get(g) ?? new Set()).add(s.assignment[i]!)));
  return [...m.values()].map((v) => v.size);
};
ml.table(Object.keys(splits).map((name) => {
  const n = foldsPerGroup(splits[name]!);
  return { scheme: name, ...Object.fromEntries(Array.from({ length: K }, (_, j) => [`in ${j + 1} fold${j ? "s" : ""}`, n.filter((v) => v === j + 1).length / n.length])) };
}), { caption: "share of label groups by the number of folds that validate some of their rows" });
console.log(`group and stratified-group assign identically here: ${splits.group!.assignment.every((f, i) => f === splits["stratified-group"]!.assignment[i])}`);

// %% [markdown]
// ## What matching inside a fold sees
// Validation matches a listing against the other validation listings. When a group is split, its validation part is smaller — often a lone listing with nothing to match — which is how a random split misstates F1 on a test set of whole groups.

// %%
ml.table(Object.entries(splits).map(([name, s]) => {
  const sum = ml.foldSummary(s, groups);
  const valid = sum.reduce((a, r) => a + r.valid, 0);
  const alone = sum.reduce((a, r) => a + r.aloneInValid, 0);
  const sizes = s.folds.flatMap((f) => Array.from(ml.validGroupSizes(f, groups)));
  return { scheme: name, "lone validation rows": alone, "lone share": alone / valid, "mean group size seen in validation": sizes.reduce((a, b) => a + b, 0) / sizes.length };
}));

// %%
ml.show(ml.boxChart(Object.entries(splits).map(([name, s]) => ({ name, values: ml.validGroupSizes(s.folds[0]!, groups) })), { title: "fold 0: group size as seen inside the validation set", yTitle: "listings of the group in validation", outliers: false }));

// %% [markdown]
// ## Save the chosen folds
// `saveFolds` writes `posting_id,fold` atomically plus a JSON sidecar with scheme, seed and k. Same as `matchlab folds --csv <train.csv> --scheme unseen --k 5 --seed 0 --out folds.csv`.

// %%
import * as os from "node:os";
import * as path from "node:path";
import { readFileSync } from "node:fs";
const out = path.join(os.tmpdir(), `matchlab-folds-unseen-${SEED}.csv`);
const meta = ml.saveFolds(out, ds.listings.map((l) => l.postingId), splits.unseen!, { group: "label_group" });
console.log(readFileSync(out, "utf8").split("\n").slice(0, 4).join("\n"));
ml.table([meta as unknown as Record<string, unknown>].map(({ foldSizes, ...rest }) => ({ ...rest, foldSizes: (foldSizes as number[]).join("/") })));
