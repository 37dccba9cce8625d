import path from "node:path";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { emptyImage, imageToBytes, imageToPng, readImage, sizeHW } from "../../src/data/image";
import { writeGradientPng, writePng } from "./fixtures";

describe("readImage", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-img-"));

  it("decodes to HWC RGB floats in [0, 1] with exact values", async () => {
    const f = path.join(dir, "red.png");
    await writePng(f, [255, 51, 0], 5, 3);
    const img = await readImage(f);
    expect([img.height, img.width, img.channels, img.data.length]).toEqual([3, 5, 3, 45]);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([1, 51 / 255, 0].map((v) => Math.fround(v)));
  });

  it("flattens alpha onto white", async () => {
    const f = path.join(dir, "clear.png");
    await writePng(f, [0, 0, 0], 4, 4, 0);
    const img = await readImage(f);
    expect(Math.min(...img.data)).toBe(1);
  });

  it("resizes to a square side or [h, w]", async () => {
    const f = path.join(dir, "grad.png");
    await writeGradientPng(f, 3, 16, 12);
    expect((await readImage(f, { size: 8 })).data.length).toBe(8 * 8 * 3);
    const r = await readImage(f, { size: [6, 10], fit: "contain" });
    expect([r.height, r.width]).toEqual([6, 10]);
  });

  it("round-trips through PNG bytes", async () => {
    const f = path.join(dir, "grad2.png");
    await writeGradientPng(f, 5, 7, 4);
    const img = await readImage(f);
    const back = await readImage(await imageToPng(img));
    expect(Array.from(imageToBytes(back))).toEqual(Array.from(imageToBytes(img)));
  });

  it("fails clearly on a corrupt file and bad sizes", async () => {
    await expect(readImage(Buffer.from("nope"))).rejects.toThrow();
    expect(() => sizeHW([0, 3])).toThrow(/positive integer/);
    expect(() => emptyImage(2, -1)).toThrow(/positive integers/);
  });
});
