/** Deterministic bilinear resize (half-pixel centres) to a fixed size. */
import { type ImageData32, sizeHW } from "../data/image";
import { cropResize } from "./sample";
import { applied, checkKeys, defineTransform, type Transform } from "./transform";

/** Options for {@link resizeImage}. */
export interface ResizeImageOptions {
  /** Output size: a side or [height, width]. Required. */
  size: number | [number, number];
}

/** Resizes the whole image bilinearly to `size` (draws nothing). */
export function resizeImage(opts: ResizeImageOptions): Transform {
  checkKeys(opts, ["size"], "resize");
  const [oh, ow] = sizeHW(opts.size);
  return defineTransform("resize", { size: opts.size }, (img: ImageData32) =>
    applied(cropResize(img, 0, 0, img.height, img.width, oh, ow), "resize", { height: oh, width: ow }),
  );
}
