import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { command, readEmbedConfig } from "../../src/cli/embed";
import { disposeEncoders } from "../../src/embeddings/index";
import { writeTinyBert, writeTinyVit } from "./tiny_models";

let root: string;
let dataset: string;
let models: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "ml-embed-cli-"));
  dataset = path.join(root, "ds");
  models = path.join(root, "models");
  mkdirSync(path.join(dataset, "train_images"), { recursive: true });
  const rows = [
    ["p1", "a.png", "red heart", "g1"],
    ["p2", "a.png", "Red heart", "g1"],
    ["p3", "b.png", "blue star", "g2"],
    ["p4", "c.png", "blue star!", "g2"],
  ];
  for (const [i, f] of ["a.png", "b.png", "c.png"].entries()) {
    await sharp({
      create: {
        width: 12,
        height: 12,
        channels: 3,
        background: { r: 40 * i, g: 200 - 50 * i, b: 90 },
      },
    })
      .png()
      .toFile(path.join(dataset, "train_images", f));
  }
  writeFileSync(path.join(dataset, "train.csv"), `posting_id,image,title,label_group\n${rows.map((r) => r.join(",")).join("\n")}\n`);
  writeTinyBert(path.join(models, "tiny-bert"));
  writeTinyVit(path.join(models, "tiny-vit"));
});
afterAll(async () => {
  await disposeEncoders();
  rmSync(root, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
    out.push(a.join(" "));
  });
  const err = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    return { code: await command.run(argv), out };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe("matchlab embed", () => {
  it("embeds titles and images, ends with one JSON line per encoder, and serves a second run from the cache", async () => {
    const args = [
      "--dataset",
      dataset,
      "--encoder",
      "hf-text:tiny-bert,hf-image:tiny-vit",
      "--models",
      models,
      "--cache-dir",
      path.join(root, "cache"),
      "--json",
    ];
    const first = await run(args);
    expect(first.code).toBe(0);
    const lines = first.out.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual(["encoder", "computed", "cached", "dim", "ms"]);
    expect(lines[0]).toMatchObject({
      encoder: "hf-text:tiny-bert",
      computed: 4,
      cached: 0,
      dim: 8,
    });
    expect(lines[1]).toMatchObject({
      encoder: "hf-image:tiny-vit",
      computed: 4,
      cached: 0,
      dim: 6,
    });
    const second = await run(args);
    expect(second.out.map((l) => JSON.parse(l))).toMatchObject([
      { computed: 0, cached: 4 },
      { computed: 0, cached: 4 },
    ]);
  });

  it("reads a YAML config, rejecting unknown keys and bad values with the file named", async () => {
    const cfg = path.join(root, "embed.yaml");
    writeFileSync(cfg, `dataset: ds\nencoders: [hf-text:tiny-bert]\nmodels: models\ncacheDir: cache2\npooling: max\nlimit: 3\n`);
    const plan = readEmbedConfig(cfg);
    expect(plan).toMatchObject({
      dataset,
      encoders: ["hf-text:tiny-bert"],
      opts: { localModelPath: models, pooling: "max", limit: 3 },
    });
    const r = await run(["--config", cfg, "--json"]);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ computed: 3, cached: 0 });
    writeFileSync(cfg, "encoders: [use-lite]\nbatchsize: 8\n");
    expect(() => readEmbedConfig(cfg)).toThrow(/embed\.yaml: unknown key batchsize \(expected one of dataset\|encoders\|/);
    writeFileSync(cfg, "encoders: [use-lite]\npooling: avg\n");
    expect(() => readEmbedConfig(cfg)).toThrow(/bad value for pooling: "avg" \(expected one of \|cls\|mean\|max\)/);
    await expect(run(["--config", cfg, "--encoder", "use-lite"])).rejects.toThrow(/cannot be combined with --encoder/);
  });

  it("rejects unknown flags, missing encoders and unknown encoder ids", async () => {
    await expect(run(["--dataset", dataset, "--encdoer", "x"])).rejects.toThrow(/known options: --config/);
    await expect(run(["--dataset", dataset])).rejects.toThrow(/give --encoder/);
    await expect(run(["--dataset", dataset, "--encoder", "clip"])).rejects.toThrow(
      /unknown encoder: clip \(expected one of mobilenet-v2\|use-lite\|hf-text\|hf-image/,
    );
  });
});
