/** Centre crop to a fixed size (padding with `fill` where the image is smaller), like torchvision's CenterCrop. */
import { emptyImage, type ImageData32, sizeHW } from "../data/image";
import { fillRGB } from "./sample";
import { applied, checkKeys, defineTransform, type Transform } from "./transform";

/** Options for {@link centerCrop}. */
export interface CenterCropOptions {
  /** Crop size: a side or [height, width]. Required. */
  size: number | [number, number];
  /** Value for pixels outside the image (when it is smaller than `size`). Defaults to 0. */
  fill?: number | [number, number, number];
}

/** Crops the centre `size` region (deterministic: draws nothing). */
export function centerCrop(opts: CenterCropOptions): Transform {
  checkKeys(opts, ["size", "fill"], "centerCrop");
  const { size, fill = 0 } = opts;
  const [ch, cw] = sizeHW(size);
  const f = fillRGB(fill, "centerCrop");
  return defineTransform("centerCrop", { size, fill }, (img: ImageData32) => {
    const top = Math.round((img.height - ch) / 2);
    const left = Math.round((img.width - cw) / 2);
    const out = emptyImage(ch, cw);
    for (let y = 0; y < ch; y++) {
      const sy = y + top;
      for (let x = 0; x < cw; x++) {
        const sx = x + left;
        const o = (y * cw + x) * 3;
        if (sy >= 0 && sy < img.height && sx >= 0 && sx < img.width) {
          const i = (sy * img.width + sx) * 3;
          out.data[o] = img.data[i]!;
          out.data[o + 1] = img.data[i + 1]!;
          out.data[o + 2] = img.data[i + 2]!;
        } else {
          out.data[o] = f[0];
          out.data[o + 1] = f[1];
          out.data[o + 2] = f[2];
        }
      }
    }
    return applied(out, "centerCrop", { top, left, height: ch, width: cw });
  });
}
