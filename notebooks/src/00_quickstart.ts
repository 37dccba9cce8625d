// %% [markdown]
// # 00 · Quick start
// What is in the emoji-match dataset, and do tables, charts and image grids render here (offline)?

// %% [markdown]
// The library is imported from the project root (the kernel's working directory). `banner()` shows
// which compute backend this kernel uses.

// %%
import * as ml from "./src/index";
import * as dfd from "danfojs-node";
import * as path from "path";
await ml.banner();

// %% [markdown]
// ## The listings
// One row per listing, in the Shopee schema: `posting_id, image, image_phash, title, label_group`,
// plus emoji-match's extra columns. Listings with the same `label_group` are the same product.

// %%
const df: dfd.DataFrame = await dfd.readCSV(path.join(ml.env.dataset, "train.csv"));
ml.table(df.head(8), { caption: `${ml.env.dataset}: ${df.shape[0]} listings × ${df.shape[1]} columns` });

// %% [markdown]
// ## Group sizes
// Every group has at least two listings; sizes are long-tailed, like Shopee's (2–51).

// %%
const groups = df["label_group"].values as Array<string | number>;
const sizes = [...ml.valueCounts(groups).values()];
ml.show(ml.countsChart(sizes, { sort: "label", title: `listings per label_group (${sizes.length} groups)`, xTitle: "group size", yTitle: "groups" }));

// %% [markdown]
// Which emoji art sets the images come from (each set draws the same emoji differently).

// %%
const artSets = df.columns.includes("art_set") ? (df["art_set"].values as string[]) : [];
ml.show(ml.countsChart(artSets, { title: "listings per art set", yTitle: "listings" }));

// %% [markdown]
// ## A few groups, side by side
// Four groups, a few listings each: the same emoji (the "product") drawn by different art sets,
// with titles in different languages. The image grid embeds each image as a small PNG.

// %%
const images = df["image"].values as string[];
const titles = df["title"].values as string[];
for (const g of [...new Set(groups)].slice(0, 4)) {
  const rows = groups.flatMap((x, i) => (x === g ? [i] : [])).slice(0, 6);
  const items = rows.map((i) => ({ src: path.join(ml.env.dataset, "train_images", images[i]!), caption: titles[i]! }));
  await ml.imageGrid(items, { size: 72, title: `label_group ${g} (${ml.valueCounts(groups).get(g)} listings)` });
}
