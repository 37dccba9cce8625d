// %% [markdown]
// # 00 · Quick start
// What is in the emoji-match dataset, and do tables, charts and image grids render here (offline)?

// %% [markdown]
// The library is imported from the project root (the kernel's working directory). `banner()`
// initialises the compute backend and shows which one this kernel uses.

// %%
import * as ml from "./dist/index";
await ml.banner();

// %% [markdown]
// ## The listings
// One row per listing, in the Shopee schema: `posting_id, image, image_phash, title, label_group`,
// plus emoji-match's extra columns. Listings with the same `label_group` are the same product.
// `loadDataset` validates every row; `frame()` gives a danfo DataFrame.

// %%
const ds = await ml.loadDataset(ml.env.dataset);
const df = ds.frame();
ml.table(df.head(8), { maxChars: 40, caption: `${ds.csvPath}: ${df.shape[0]} listings × ${df.shape[1]} columns` });

// %% [markdown]
// ## Group sizes
// Every group has at least two listings; sizes are long-tailed, like Shopee's (2–51).

// %%
const groups = ml.valueCounts(ds.listings.map((l) => l.labelGroup));
const sizes = [...groups.values()];
ml.show(ml.countsChart(sizes, { sort: "label", title: `listings per label_group (${groups.size} groups)`, xTitle: "group size", yTitle: "groups" }));

// %% [markdown]
// Which emoji art sets the images come from (each set draws the same emoji differently).

// %%
ml.show(ml.countsChart(ds.listings.map((l) => l.extra.art_set ?? "(none)"), { title: "listings per art set", yTitle: "listings" }));

// %% [markdown]
// ## A few groups, side by side
// Four groups, up to six listings each: the same emoji (the "product") drawn by different art
// sets, with titles in different languages. Images are embedded as small PNGs.

// %%
for (const g of [...groups.keys()].slice(0, 4)) {
  const members = ds.listings.filter((l) => l.labelGroup === g);
  const items = members.slice(0, 6).map((l) => ({ src: l.imagePath, caption: l.title }));
  await ml.imageGrid(items, { size: 72, title: `label_group ${g} (${members.length} listings)` });
}
