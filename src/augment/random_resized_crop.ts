/** Random resized crop (torchvision's RandomResizedCrop): a random area and aspect ratio, resized to `size`. */
import { type ImageData32, sizeHW } from "../data/image";
import { cropResize } from "./sample";
import { checkKeys, checkRange, defineTransform, type Transform } from "./transform";

/** Options for {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /** Output size: a side or [height, width]. Required. */
  size: number | [number, number];
  /** Range of the crop's area as a fraction of the image's. Defaults to [0.08, 1]. */
  scale?: [number, number];
  /** Range of the crop's aspect ratio (width/height), sampled log-uniformly. Defaults to [3/4, 4/3]. */
  ratio?: [number, number];
}

/** Picks the crop box like torchvision: 10 tries, then a centre crop clamped to the ratio range. */
export function drawCropBox(h: number, w: number, scale: readonly [number, number], ratio: readonly [number, number], next: () => number): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const lr0 = Math.log(ratio[0]);
  const lr1 = Math.log(ratio[1]);
  for (let t = 0; t < 10; t++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * next());
    const ar = Math.exp(lr0 + (lr1 - lr0) * next());
    const cw = Math.round(Math.sqrt(target * ar));
    const ch = Math.round(Math.sqrt(target / ar));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      const top = Math.floor(next() * (h - ch + 1));
      const left = Math.floor(next() * (w - cw + 1));
      return { top, left, height: ch, width: cw };
    }
  }
  const inRatio = w / h;
  let cw: number;
  let ch: number;
  if (inRatio < ratio[0]) {
    cw = w;
    ch = Math.round(cw / ratio[0]);
  } else if (inRatio > ratio[1]) {
    ch = h;
    cw = Math.round(ch * ratio[1]);
  } else {
    cw = w;
    ch = h;
  }
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw };
}

/**
 * Crops a random region (area fraction in `scale`, aspect in `ratio`) and resizes it bilinearly to `size`.
 * @example randomResizedCrop({ size: 224, scale: [0.5, 1] })
 */
export function randomResizedCrop(opts: RandomResizedCropOptions): Transform {
  checkKeys(opts, ["size", "scale", "ratio"], "randomResizedCrop");
  const { size, scale = [0.08, 1], ratio = [3 / 4, 4 / 3] } = opts;
  const [oh, ow] = sizeHW(size);
  const sc = checkRange(scale, "randomResizedCrop scale", 0);
  const ra = checkRange(ratio, "randomResizedCrop ratio", 1e-6);
  return defineTransform("randomResizedCrop", { size, scale: sc, ratio: ra }, (img: ImageData32, rng) => {
    const box = drawCropBox(img.height, img.width, sc, ra, () => rng.next());
    return { ...appliedBox(cropResize(img, box.top, box.left, box.height, box.width, oh, ow), box) };
  });
}

function appliedBox(image: ImageData32, box: { top: number; left: number; height: number; width: number }) {
  const params = [{ name: "randomResizedCrop", top: box.top, left: box.left, height: box.height, width: box.width }];
  return { image, params, describe: () => `randomResizedCrop(box=${box.left},${box.top} ${box.width}x${box.height})` };
}
