import { describe, expect, it } from "vitest";
import {
  adjustHue,
  centerCrop,
  coarseDropout,
  colorJitter,
  compose,
  cropResize,
  cutout,
  drawCropBox,
  flipImageH,
  flipImageV,
  horizontalFlip,
  normalizeImage,
  randomResizedCrop,
  randomRotation,
  resizeImage,
  rotateImage,
  transformFromSpec,
  verticalFlip,
} from "../../src/augment/index";
import type { ImageData32 } from "../../src/data/image";
import { Rng } from "../../src/rng";

function randomImage(h: number, w: number, seed = 1): ImageData32 {
  const r = new Rng(seed);
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = r.next();
  return { data, height: h, width: w, channels: 3 };
}
const px = (img: ImageData32, y: number, x: number, c: number) => img.data[(y * img.width + x) * 3 + c]!;

/** Naive bilinear crop-resize, written pixel by pixel from the definition. */
function naiveCropResize(img: ImageData32, top: number, left: number, ch: number, cw: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let c = 0; c < 3; c++) {
        const fy = Math.min(Math.max(top + ((y + 0.5) * ch) / oh - 0.5, top), top + ch - 1);
        const fx = Math.min(Math.max(left + ((x + 0.5) * cw) / ow - 0.5, left), left + cw - 1);
        const y0 = Math.floor(fy);
        const x0 = Math.floor(fx);
        const y1 = Math.min(y0 + 1, top + ch - 1);
        const x1 = Math.min(x0 + 1, left + cw - 1);
        const wy = fy - y0;
        const wx = fx - x0;
        out[(y * ow + x) * 3 + c] =
          (1 - wy) * ((1 - wx) * px(img, y0, x0, c) + wx * px(img, y0, x1, c)) + wy * ((1 - wx) * px(img, y1, x0, c) + wx * px(img, y1, x1, c));
      }
    }
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const key = { seed: 7, epoch: 2, index: 13 };

describe("augmentations", () => {
  const img = randomImage(12, 17);

  it("crop-resize matches a naive per-pixel loop (1e-5)", () => {
    for (const [t, l, ch, cw, oh, ow] of [
      [2, 3, 7, 9, 5, 4],
      [0, 0, 12, 17, 24, 30],
      [1, 4, 10, 10, 10, 10],
    ] as const) {
      expect(maxDiff(cropResize(img, t, l, ch, cw, oh, ow).data, naiveCropResize(img, t, l, ch, cw, oh, ow))).toBeLessThan(1e-5);
    }
  });

  it("a crop of the full image at the same size is the identity", () => {
    expect(maxDiff(cropResize(img, 0, 0, 12, 17, 12, 17).data, img.data)).toBe(0);
    expect(maxDiff(resizeImage({ size: [12, 17] }).run(img, key).image.data, img.data)).toBe(0);
    expect(maxDiff(randomResizedCrop({ size: [12, 17], scale: [1, 1], ratio: [17 / 12, 17 / 12] }).run(img, key).image.data, img.data)).toBe(0);
    expect(maxDiff(centerCrop({ size: [12, 17] }).run(img, key).image.data, img.data)).toBe(0);
  });

  it("flipping twice is the identity, and a flip matches a naive loop", () => {
    expect(maxDiff(flipImageH(flipImageH(img)).data, img.data)).toBe(0);
    expect(maxDiff(flipImageV(flipImageV(img)).data, img.data)).toBe(0);
    const h = flipImageH(img);
    const v = flipImageV(img);
    for (let y = 0; y < 12; y++) for (let x = 0; x < 17; x++) for (let c = 0; c < 3; c++) {
      expect(px(h, y, x, c)).toBe(px(img, y, 16 - x, c));
      expect(px(v, y, x, c)).toBe(px(img, 11 - y, x, c));
    }
    const always = horizontalFlip({ p: 1 }).run(img, key);
    expect(always.params[0]).toEqual({ name: "hflip", flipped: true });
    expect(verticalFlip({ p: 0 }).run(img, key).describe()).toBe("vflip(flipped=false)");
  });

  it("rotation by 0 is the identity; by 90° on a square moves pixels exactly; 4×90° returns", () => {
    const sq = randomImage(9, 9, 3);
    expect(maxDiff(rotateImage(sq, 0, [1, 1, 1]).data, sq.data)).toBeLessThan(1e-6);
    const r90 = rotateImage(sq, 90, [1, 1, 1]);
    // counter-clockwise: output (y, x) comes from input (x, W-1-y)
    for (let y = 0; y < 9; y++) for (let x = 0; x < 9; x++) expect(px(r90, y, x, 0)).toBeCloseTo(px(sq, x, 8 - y, 0), 5);
    let r = sq;
    for (let k = 0; k < 4; k++) r = rotateImage(r, 90, [1, 1, 1]);
    expect(maxDiff(r.data, sq.data)).toBeLessThan(1e-5);
    const drawn = randomRotation({ degrees: 10 }).run(sq, key);
    expect(Math.abs(drawn.params[0]!.angle as number)).toBeLessThanOrEqual(10);
    expect(drawn.describe()).toMatch(/^rotate\(angle=-?\d+\.\d{3}\)$/);
  });

  it("colour jitter ops match per-pixel formulas and keep values in [0, 1]", () => {
    const cj = colorJitter({ brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.1 });
    const out = cj.run(img, key).image;
    expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out.data)).toBeLessThanOrEqual(1);
    const only = colorJitter({ brightness: 0.5, contrast: 0, saturation: 0, hue: 0 }).run(img, key);
    const f = only.params[0]!.brightness as number;
    for (let i = 0; i < img.data.length; i++) expect(only.image.data[i]).toBeCloseTo(Math.min(1, img.data[i]! * f), 6);
    // hue shift of a full turn is the identity; pure red shifted by 1/3 becomes green
    const red: ImageData32 = { data: new Float32Array([1, 0, 0]), height: 1, width: 1, channels: 3 };
    const noHue = colorJitter({ brightness: 0, contrast: 0, saturation: 0, hue: 0 }).run(img, key).image;
    expect(maxDiff(noHue.data, img.data)).toBe(0);
    expect(transformFromSpec({ name: "colorJitter", options: {} }).name).toBe("colorJitter");
    expect(Array.from(adjustHue(red, 1 / 3).data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 1, 0]);
  });

  it("coarse dropout fills exactly the drawn boxes", () => {
    const r = coarseDropout({ minHoles: 2, maxHoles: 4, maxHeight: 4, maxWidth: 5, fill: 0.5, p: 1 }).run(img, key);
    const boxes = r.params[0]!.boxes as number[];
    expect(boxes.length / 4).toBe(r.params[0]!.holes);
    const inBox = (y: number, x: number) => {
      for (let b = 0; b < boxes.length; b += 4) if (x >= boxes[b]! && x < boxes[b]! + boxes[b + 2]! && y >= boxes[b + 1]! && y < boxes[b + 1]! + boxes[b + 3]!) return true;
      return false;
    };
    for (let y = 0; y < 12; y++) for (let x = 0; x < 17; x++) for (let c = 0; c < 3; c++) expect(px(r.image, y, x, c)).toBe(inBox(y, x) ? 0.5 : px(img, y, x, c));
    expect(cutout({ size: 0.5 }).run(img, key).params[0]!.holes).toBe(1);
  });

  it("normalisation uses ImageNet statistics by default", () => {
    const n = normalizeImage().run(img, key).image;
    expect(n.data[0]).toBeCloseTo((img.data[0]! - 0.485) / 0.229, 5);
    expect(n.data[4]).toBeCloseTo((img.data[4]! - 0.456) / 0.224, 5);
    expect(() => normalizeImage({ std: [1, 0, 1] })).toThrow(/std > 0/);
  });

  it("random resized crop draws a box inside the image with area and ratio in range", () => {
    const r = new Rng(5);
    for (let t = 0; t < 200; t++) {
      const b = drawCropBox(40, 60, [0.2, 0.9], [0.5, 2], () => r.next());
      expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= 40 && b.left + b.width <= 60).toBe(true);
    }
    const out = randomResizedCrop({ size: [8, 10] }).run(img, key).image;
    expect([out.height, out.width, out.data.length]).toEqual([8, 10, 240]);
  });

  it("is deterministic per (seed, epoch, index) and differs across them", () => {
    const pipe = compose([
      randomResizedCrop({ size: 10, scale: [0.3, 1] }),
      horizontalFlip(),
      randomRotation({ degrees: 20 }),
      colorJitter(),
      coarseDropout({ p: 1 }),
      normalizeImage(),
    ]);
    const a = pipe.run(img, key);
    const b = pipe.run(img, { ...key });
    expect(maxDiff(a.image.data, b.image.data)).toBe(0);
    expect(a.describe()).toBe(b.describe());
    expect(a.params.map((p) => p.name)).toEqual(["randomResizedCrop", "hflip", "rotate", "colorJitter", "coarseDropout", "normalize"]);
    const c = pipe.run(img, { ...key, epoch: 3 });
    const d = pipe.run(img, { ...key, index: 14 });
    expect(c.describe()).not.toBe(a.describe());
    expect(d.describe()).not.toBe(a.describe());
    // the input is never mutated
    expect(maxDiff(img.data, randomImage(12, 17).data)).toBe(0);
    // the spec round-trips (what worker threads rebuild)
    const rebuilt = transformFromSpec(JSON.parse(JSON.stringify(pipe.spec)));
    expect(maxDiff(rebuilt.run(img, key).image.data, a.image.data)).toBe(0);
  });

  it("rejects bad options and unknown names clearly", () => {
    expect(() => horizontalFlip({ p: 2 })).toThrow(/p must be in \[0, 1\]/);
    expect(() => randomResizedCrop({ size: 8, scale: [0.9, 0.1] })).toThrow(/lo <= hi/);
    expect(() => colorJitter({ hue: 0.7 })).toThrow(/hue must be in \[0, 0.5\]/);
    expect(() => randomRotation({ degress: 5 } as never)).toThrow(/unknown option degress \(expected degrees\|p\|fill\)/);
    expect(() => transformFromSpec({ name: "blur", options: {} })).toThrow(/unknown transform: blur \(expected .*randomResizedCrop/);
    expect(() => compose([{} as never])).toThrow(/item 0 is not a Transform/);
  });
});
