import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { env as hfEnv, pipeline } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disposeEncoders, embedItems, hfMissingFiles, loadEncoder, normalizeEmbeddingRows, poolTokenStates } from "../../src/embeddings/index";
import { type TinyBertWeights, type TinyVitWeights, tinyBertForward, tinyVitForward, writeTinyBert, writeTinyVit } from "./tiny_models";

let root: string;
let bert: TinyBertWeights;
let vit: TinyVitWeights;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "ml-hf-"));
  bert = writeTinyBert(path.join(root, "models", "tiny-bert"));
  vit = writeTinyVit(path.join(root, "models", "tiny-vit"));
});
afterAll(async () => {
  await disposeEncoders();
  rmSync(root, { recursive: true, force: true });
});

const titles = ["Red heart", "a cat with the sun", "Grinning FACE!"];

describe("hf-text on a tiny generated BERT (real transformers.js loading, offline)", () => {
  it("pools like a naive loop over the reference forward pass, for cls|mean|max (1e-5)", async () => {
    const opts = { localModelPath: path.join(root, "models"), cacheDir: root };
    const enc = await loadEncoder("hf-text:tiny-bert", opts);
    expect(enc.dim).toBe(bert.hidden);
    expect(hfEnv.allowRemoteModels).toBe(false);
    const pipe = await pipeline("feature-extraction", "tiny-bert", {
      dtype: "fp32",
    });
    for (const pooling of ["cls", "mean", "max"] as const) {
      const r = await embedItems(titles, {
        model: "hf-text:tiny-bert",
        pooling,
        normalize: true,
        ...opts,
      });
      titles.forEach((t, i) => {
        const ids = (pipe.tokenizer([t]).input_ids.tolist() as bigint[][])[0]!.map(Number);
        const states = tinyBertForward(bert, ids);
        const want = normalizeEmbeddingRows(poolTokenStates(states, [1, ids.length, bert.hidden], null, pooling), bert.hidden);
        for (let j = 0; j < bert.hidden; j++) expect(r.vectors[i * bert.hidden + j]).toBeCloseTo(want[j]!, 5);
      });
    }
    // and agrees with transformers.js's own pipeline pooling where it has one
    const own = await pipe(titles, { pooling: "mean", normalize: true });
    const ours = await embedItems(titles, {
      model: "hf-text:tiny-bert",
      pooling: "mean",
      normalize: true,
      ...opts,
    });
    Array.from(own.data as Float32Array).forEach((v, k) => {
      expect(ours.vectors[k]).toBeCloseTo(v, 5);
    });
    await pipe.dispose();
  });

  it("says which files are missing and how to put them in place", async () => {
    const models = path.join(root, "models");
    rmSync(path.join(models, "tiny-bert-q8"), { recursive: true, force: true });
    expect(
      hfMissingFiles("tiny-bert", "text", {
        dtype: "q8",
        localModelPath: models,
      }),
    ).toEqual(["onnx/model_quantized.onnx"]);
    const err = await loadEncoder("hf-text:nope/absent", {
      localModelPath: models,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) expect(msg).toContain(`  - ${f}`);
    expect(msg).toContain(path.join(models, "nope/absent"));
    expect(msg).toMatch(/huggingface-cli download nope\/absent/);
    await expect(loadEncoder("hf-image:tiny-vit", { localModelPath: models, dtype: "q4" })).rejects.toThrow(/- onnx\/model_q4\.onnx/);
    await expect(
      loadEncoder("hf-text:tiny-bert", {
        localModelPath: models,
        dtype: "fp64",
      }),
    ).rejects.toThrow(/unknown dtype: fp64 \(expected fp32\|/);
  });
});

describe("hf-image on a tiny generated ViT", () => {
  it("matches the reference forward pass on an already-sized image (1e-4)", async () => {
    const S = vit.size;
    const data = Float32Array.from({ length: S * S * 3 }, (_, i) => Math.round(((i * 37) % 256) as number) / 255);
    const img = { data, height: S, width: S, channels: 3 as const };
    const opts = { localModelPath: path.join(root, "models"), cacheDir: root };
    for (const pooling of ["cls", "mean", "max"] as const) {
      const r = await embedItems([img, img], {
        model: "hf-image:tiny-vit",
        pooling,
        ...opts,
      });
      expect(r.dim).toBe(vit.hidden);
      // the processor rescales by 1/255 and normalises with mean 0.5 std 0.5, in CHW
      const chw = new Float32Array(3 * S * S);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) chw[(c * S + y) * S + x] = (data[(y * S + x) * 3 + c]! - 0.5) / 0.5;
      const states = tinyVitForward(vit, chw);
      const n = (S / vit.patch) ** 2;
      const want = poolTokenStates(states, [1, n, vit.hidden], null, pooling);
      for (let j = 0; j < vit.hidden; j++) {
        expect(r.vectors[j]).toBeCloseTo(want[j]!, 4);
        expect(r.vectors[vit.hidden + j]).toBeCloseTo(want[j]!, 4);
      }
    }
  });
});
