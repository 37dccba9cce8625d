// %% [markdown]
// # 01 · Exploratory data analysis
// What does the data look like — group sizes, titles, locales, art sets, duplicate images — and what does it mean for validation?

// %%
import * as ml from "./dist/index";
await ml.banner();

// %% [markdown]
// ## The listings
// `loadDataset` validates every row (ids, titles, image paths and headers, group sizes) and gives typed listings plus a danfo DataFrame.

// %%
const ds = await ml.loadDataset(ml.env.dataset);
const df = ds.frame();
const nGroups = new Set(ds.listings.map((l) => l.labelGroup)).size;
console.log(`${ds.listings.length} listings in ${nGroups} label groups; columns: ${ds.columns.join(", ")}`);
ml.table(df.head(8), { maxChars: 40 });

// %% [markdown]
// ## Group sizes
// A listing's matches are the other listings of its `label_group`. Small groups dominate, as in Shopee (most groups have 2 listings).

// %%
const sizes = [...ml.listingGroupSizes(ds.listings).values()];
ml.show(ml.countsChart(sizes, { title: "label groups by size", sort: "label", xTitle: "listings in the group", yTitle: "groups" }));

// %%
const share = (pred: (s: number) => boolean) => sizes.filter(pred).length / sizes.length;
ml.table([
  { statistic: "groups", value: sizes.length },
  { statistic: "mean size", value: sizes.reduce((a, b) => a + b, 0) / sizes.length },
  { statistic: "share of size 2", value: share((s) => s === 2) },
  { statistic: "share of size ≤ 3", value: share((s) => s <= 3) },
  { statistic: "largest", value: Math.max(...sizes) },
]);

// %% [markdown]
// ## The long tail of classes
// Class sizes against their rank (log scale): a few large classes, a long flat tail of tiny ones.

// %%
ml.show(ml.longTailChart(sizes, { title: "long tail of label groups" }));

// %% [markdown]
// ## Title lengths
// Characters and words per title, and characters by locale (CJK titles are short in characters, long in meaning).

// %%
const chars = ds.listings.map((l) => [...l.title].length);
const words = ds.listings.map((l) => l.title.split(/\s+/).filter(Boolean).length);
ml.show(ml.histogramChart([{ name: "characters", values: chars }], { title: "title length (characters)", xTitle: "characters" }));
ml.show(ml.histogramChart([{ name: "words", values: words }], { title: "title length (words)", xTitle: "words" }));

// %%
const locale = (l: ml.Listing) => l.extra.locale ?? "(none)";
const byLocale = new Map<string, number[]>();
ds.listings.forEach((l, i) => byLocale.set(locale(l), [...(byLocale.get(locale(l)) ?? []), chars[i]!]));
ml.show(ml.boxChart([...byLocale].sort((a, b) => a[0].localeCompare(b[0])).map(([name, values]) => ({ name, values })), { title: "title characters by locale", yTitle: "characters" }));

// %% [markdown]
// ## Locales and art sets
// Titles come in many languages; images come from several emoji art sets, so a match can look quite different.

// %%
ml.show(ml.countsChart(ds.listings.map(locale), { title: "listings per locale" }));
ml.show(ml.countsChart(ds.listings.map((l) => l.extra.art_set ?? "(none)"), { title: "listings per art set" }));

// %%
const artSetsPerGroup = new Map<string, Set<string>>();
for (const l of ds.listings) {
  const s = artSetsPerGroup.get(l.labelGroup) ?? new Set<string>();
  s.add(l.extra.art_set ?? "");
  artSetsPerGroup.set(l.labelGroup, s);
}
ml.show(ml.countsChart([...artSetsPerGroup.values()].map((s) => s.size), { title: "distinct art sets within a label group", sort: "label", xTitle: "art sets", yTitle: "groups" }));

// %% [markdown]
// ## Duplicate images by perceptual hash
// Listings with the same `image_phash` share (almost) the same picture. Inside one group they are easy matches; across groups they are traps for an image-only model.

// %%
const dups = ml.phashDuplicates(ds.listings);
const across = dups.filter((d) => d.labelGroups > 1);
ml.table([
  { statistic: "phash values shared by ≥ 2 listings", value: dups.length },
  { statistic: "listings in those sets", value: dups.reduce((a, d) => a + d.rows.length, 0) },
  { statistic: "sets spanning > 1 label group", value: across.length },
]);

// %%
const example = across[0] ?? dups[0];
if (example) {
  await ml.imageGrid(
    example.rows.slice(0, 8).map((r) => ({ src: ds.listings[r]!.imagePath, caption: `${ds.listings[r]!.labelGroup} · ${ds.listings[r]!.title}` })),
    { title: `phash ${example.phash}: ${example.rows.length} listings, ${example.labelGroups} label group(s)`, size: 96 },
  );
} else console.log("no duplicate phashes in this dataset");

// %% [markdown]
// ## One group up close
// The titles and images of one label group: the same thing in different words and drawings.

// %%
const g = ds.listings.find((l) => (ml.listingGroupSizes(ds.listings).get(l.labelGroup) ?? 0) >= 4)?.labelGroup ?? ds.listings[0]!.labelGroup;
const members = ds.listings.filter((l) => l.labelGroup === g);
await ml.imageGrid(members.map((l) => ({ src: l.imagePath, caption: `${l.extra.locale ?? ""} · ${l.title}` })), { title: `label_group ${g}`, size: 96 });

// %% [markdown]
// ## What this means for validation
// Most groups have 2–3 listings, so a random split usually leaves a listing's only match on the other side of the fold. Notebook 03 compares random, grouped and unseen-label folds.
