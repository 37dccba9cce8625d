// Bad images, named by their row in every command that reads them: loadDataset's checks (symlinks
// leaving the image folder, a pixel cap, empty files, non-images, truncated files under "decode"),
// decode-time errors (line, posting_id, path) in `matchlab train`, `match --baseline` and `embed`, and
// `data.on_bad_row: skip` / `--on-bad-row skip` dropping and listing the rows (bad_rows.csv).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError, loadDataset } from "../../src/data/dataset";
import { ImageDecodeError, imageHeader, readImage } from "../../src/data/image";
import { disposeEncoders } from "../../src/embeddings/index";
import { runCli } from "../cli/run_cli";
import { writeTinyVit } from "../embeddings/tiny_models";
import { writeTinyDataset } from "../train/fixture";
import { pngClaiming, truncate } from "./bad_png";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "matchlab.js");
let work = "";

/** A copy of the tiny dataset (16 groups × 3, 8×8 PNGs) in a fresh folder. */
let n = 0;
async function tiny(): Promise<string> {
  const dir = path.join(work, `ds${n++}`);
  await writeTinyDataset(dir, { groups: 16 });
  return dir;
}
const img = (dir: string, f: string) => path.join(dir, "train_images", f);

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "ml-bad-images-"));
});
afterAll(async () => {
  await disposeEncoders();
  rmSync(work, { recursive: true, force: true });
});

describe("image errors name the file and what was expected", () => {
  it("readImage / imageHeader: empty, not an image, truncated, over the pixel cap", async () => {
    const dir = path.join(work, "files");
    mkdirSync(dir, { recursive: true });
    const empty = path.join(dir, "empty.png");
    writeFileSync(empty, "");
    const text = path.join(dir, "text.png");
    writeFileSync(text, "hello, not an image");
    const huge = path.join(dir, "huge.png");
    writeFileSync(huge, pngClaiming(20000, 20000));
    const err = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as ImageDecodeError;
    for (const [e, kind, msg] of [
      [await err(readImage(empty)), "corrupt-image", /image .*empty\.png: the file is empty \(0 bytes; expected a complete PNG/],
      [await err(imageHeader(text)), "corrupt-image", /image .*text\.png: does not decode \(.*; expected a complete PNG/],
      [await err(imageHeader(huge)), "image-too-large", /image .*huge\.png: image is 20000×20000 = 400000000 pixels, over the limit of 40000000 pixels \(expected at most/],
      [await err(readImage(huge)), "image-too-large", /huge\.png: image is 20000×20000 = 400000000 pixels, over the limit of 40000000/],
    ] as const) {
      expect(e).toBeInstanceOf(ImageDecodeError);
      expect(e.kind).toBe(kind);
      expect(e.message).toMatch(msg);
    }
  });
});

describe("loadDataset checks images, by row", () => {
  it("empty files, non-images and images over maxPixels are bad rows named by line, posting_id and path; skip drops and lists them", async () => {
    const dir = await tiny();
    writeFileSync(img(dir, "g0_1.png"), ""); // line 3
    writeFileSync(img(dir, "g2_0.png"), "GIF89a but not really"); // line 8
    writeFileSync(img(dir, "g5_2.png"), pngClaiming(9000, 9000)); // line 19
    const e = (await loadDataset(dir).catch((x: unknown) => x)) as DatasetError;
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.issues.map((i) => [i.line, i.postingId, i.kind])).toEqual([
      [3, "p0_1", "corrupt-image"],
      [8, "p2_0", "corrupt-image"],
      [19, "p5_2", "image-too-large"],
    ]);
    expect(e.message).toMatch(/line 3 \(posting_id p0_1\): corrupt-image: image .*g0_1\.png: the file is empty/);
    expect(e.message).toMatch(/line 19 \(posting_id p5_2\): image-too-large: image .*g5_2\.png: image is 9000×9000 = 81000000 pixels, over the limit of 40000000/);
    // a lower cap, and skip
    const ds = await loadDataset(dir, { onBadRow: "skip", warn: false, maxPixels: 63 });
    expect(ds.listings).toHaveLength(0); // every 8×8 image has 64 pixels
    const ok = await loadDataset(dir, { onBadRow: "skip", warn: false });
    expect(ok.listings).toHaveLength(45);
    expect(ok.skipped.map((i) => i.postingId)).toEqual(["p0_1", "p2_0", "p5_2"]);
    expect(ok.listings.find((l) => l.postingId === "p0_0")?.line).toBe(2);
    await expect(loadDataset(dir, { onBadRow: "drop" as never })).rejects.toThrow(/bad value for onBadRow: "drop" \(expected one of error\|skip\)/);
  });

  it("a truncated image passes the header check but not checkImages: \"decode\"", async () => {
    const dir = await tiny();
    truncate(img(dir, "g1_2.png")); // line 7
    expect((await loadDataset(dir)).listings).toHaveLength(48);
    const e = (await loadDataset(dir, { checkImages: "decode" }).catch((x: unknown) => x)) as DatasetError;
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.issues.map((i) => [i.line, i.postingId, i.kind])).toEqual([[7, "p1_2", "corrupt-image"]]);
    expect(e.message).toMatch(/image .*g1_2\.png: does not decode/);
  });

  it("a symlink that resolves outside the image folder escapes it; one inside it, or a linked image folder, is fine", async () => {
    const dir = await tiny();
    const outside = path.join(work, "outside.png");
    writeFileSync(outside, readFileSync(img(dir, "g3_0.png")));
    rmSync(img(dir, "g3_0.png"));
    symlinkSync(outside, img(dir, "g3_0.png")); // line 11
    rmSync(img(dir, "g3_1.png"));
    symlinkSync("g3_2.png", img(dir, "g3_1.png")); // inside: fine
    const e = (await loadDataset(dir, { checkImages: "exists" }).catch((x: unknown) => x)) as DatasetError;
    expect(e.issues.map((i) => [i.line, i.postingId, i.kind])).toEqual([[11, "p3_0", "image-escapes-folder"]]);
    expect(e.message).toMatch(/image .*g3_0\.png is a symlink to .*outside\.png, outside the image folder .*train_images \(expected a file inside it\)/);
    // the same dataset reached through a linked folder
    const linked = path.join(work, "linked");
    mkdirSync(linked);
    symlinkSync(path.join(dir, "train_images"), path.join(linked, "train_images"));
    writeFileSync(path.join(linked, "train.csv"), readFileSync(path.join(dir, "train.csv")));
    const l = await loadDataset(linked, { onBadRow: "skip", warn: false });
    expect(l.skipped.map((i) => i.kind)).toEqual(["image-escapes-folder"]);
    expect(l.listings).toHaveLength(47);
  });
});

/** Runs bin/matchlab.js in a child process. */
function matchlab(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MATCHLAB_QUIET: "1", MATCHLAB_DEBUG: "", MATCHLAB_CACHE_DIR: path.join(work, "cache") } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** Writes `<work>/<name>.yaml`: a tiny model on `dataset`, fold 0, with `data` keys added (e.g. "folds: 4"). */
function tinyConfig(name: string, dataset: string, data: string): string {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      "backend: cpu",
      `data: { dataset: ${JSON.stringify(dataset)}, fold: 0, image_size: 8, ${data} }`,
      "model: { image: { widths: [4, 8] }, text: { dim: 64 }, embedding_dim: 16 }",
      "heads: { fused: { kind: arcface, s: 10, m: 0.2 } }",
      "optim: { batch_size: 8, epochs: 1 }",
      "train: { log_period: 0 }",
      "match: { knn: 10 }",
      "",
    ].join("\n"),
  );
  return file;
}

describe("through the CLI", () => {
  it("matchlab train: a truncated image fails naming line, posting_id and path (no stack); data.on_bad_row=skip drops it and writes bad_rows.csv", async () => {
    const dir = await tiny();
    truncate(img(dir, "g4_1.png")); // line 15
    const cfg = tinyConfig("badimg", dir, "folds: 4");
    const runsDir = path.join(work, "runs");
    const bad = await matchlab(["train", "--config", cfg, "--runs-dir", runsDir, "--json"]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/matchlab train: .*train\.csv: 1 bad row:\n {2}line 15 \(posting_id p4_1\): corrupt-image: image .*g4_1\.png: does not decode/);
    expect(bad.err).not.toMatch(/\n\s+at /);
    const ok = await matchlab(["train", "--config", cfg, "--runs-dir", runsDir, "--json", "--set", "data.on_bad_row=skip"]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toMatch(/skipped 1 of 48 rows:\n {2}line 15 \(posting_id p4_1\): corrupt-image/);
    const run = JSON.parse(ok.out.trim().split("\n").at(-1)!) as { run: string };
    const rows = readFileSync(path.join(runsDir, run.run, "bad_rows.csv"), "utf8").trim().split("\n");
    expect(rows[0]).toBe("line,posting_id,kind,reason");
    expect(rows.slice(1).map((r) => r.split(",").slice(0, 3).join(","))).toEqual(["15,p4_1,corrupt-image"]);
    const bogus = await matchlab(["train", "--config", cfg, "--runs-dir", runsDir, "--set", "data.on_bad_row=drop"]);
    expect(bogus.code).not.toBe(0);
    expect(bogus.err).toMatch(/data\.on_bad_row.*drop.*error\|skip/);
  });

  it("matchlab cv with data.on_bad_row=skip: every fold drops the same row, lists it, and the OOF record covers the rest", async () => {
    const dir = await tiny();
    truncate(img(dir, "g6_1.png")); // line 21
    const cfg = tinyConfig("badcv", dir, "folds: 3, on_bad_row: skip");
    const runsDir = path.join(work, "cv-runs");
    const r = await matchlab(["cv", "--config", cfg, "--runs-dir", runsDir, "--id", "badcv", "--parallel", "2", "--json"]);
    expect(r.code, r.err).toBe(0);
    const cv = JSON.parse(readFileSync(path.join(runsDir, "badcv", "cv.json"), "utf8"));
    expect(cv.folds).toHaveLength(3);
    for (const f of cv.folds as { run: string }[]) {
      const rows = readFileSync(path.join(runsDir, f.run, "bad_rows.csv"), "utf8").trim().split("\n");
      expect(rows.slice(1).map((l) => l.split(",").slice(0, 3).join(","))).toEqual(["21,p6_1,corrupt-image"]);
    }
    expect(cv.oof.rows).toBe(47);
  }, 300_000);

  it("matchlab match --baseline: a truncated image fails naming line, posting_id and path", async () => {
    const dir = await tiny();
    truncate(img(dir, "g7_0.png")); // line 23
    const r = await matchlab(["match", "--dataset", dir, "--baseline", "--out", path.join(work, "submission.csv")]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/matchlab match: .*train\.csv: 1 bad row:\n {2}line 23 \(posting_id p7_0\): corrupt-image: image .*g7_0\.png: does not decode/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("matchlab embed: a bad image fails naming its row; --on-bad-row skip embeds the rest", async () => {
    const dir = await tiny();
    truncate(img(dir, "g0_2.png")); // line 4
    const models = path.join(work, "models");
    // an image encoder reading pixels: the hf-image tiny ViT
    writeTinyVit(path.join(models, "tiny-vit"));
    const args = ["embed", "--dataset", dir, "--encoder", "hf-image:tiny-vit", "--models", models, "--cache-dir", path.join(work, "ecache"), "--json"];
    const bad = await runCli(args);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/matchlab embed: .*train\.csv: 1 bad row:\n {2}line 4 \(posting_id p0_2\): corrupt-image: image .*g0_2\.png: does not decode/);
    const ok = await runCli([...args, "--on-bad-row", "skip"]);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out.trim())).toMatchObject({ computed: 47, cached: 0 });
    expect(ok.err).toMatch(/skipped 1 of 48 rows:\n {2}line 4 \(posting_id p0_2\)/);
    expect(existsSync(img(dir, "g0_2.png"))).toBe(true);
  });
});
