/**
 * `compose([...])` chains transforms; each child draws from its own stream
 * `Rng.derive(seed, epoch, index, position, name)`, so adding or removing one transform does not
 * change what the others draw. Specs round-trip through {@link transformFromSpec} (worker threads).
 */
import type { ImageData32 } from "../data/image";
import { Rng } from "../rng";
import { centerCrop } from "./center_crop";
import { colorJitter } from "./color_jitter";
import { coarseDropout, cutout } from "./cutout";
import { horizontalFlip, verticalFlip } from "./flip";
import { normalizeImage } from "./normalize";
import { randomResizedCrop } from "./random_resized_crop";
import { resizeImage } from "./resize";
import { randomRotation } from "./rotate";
import { type Applied, augmentModulePath, describeParams, type ParamValue, type Transform, type TransformSpec } from "./transform";

/** A composed pipeline (itself a Transform). */
export interface Compose extends Transform {
  readonly transforms: readonly Transform[];
}

/** Chains transforms in order. */
export function compose(transforms: Transform[]): Compose {
  for (const [i, t] of transforms.entries()) {
    if (!t || typeof t.apply !== "function" || !t.spec) throw new Error(`compose: item ${i} is not a Transform (build one with e.g. horizontalFlip())`);
  }
  const applyAll = (img: ImageData32, rngFor: (i: number, t: Transform) => Rng): Applied => {
    let cur = img;
    const params: Record<string, ParamValue>[] = [];
    transforms.forEach((t, i) => {
      const r = t.apply(cur, rngFor(i, t));
      cur = r.image;
      params.push(...r.params);
    });
    return { image: cur, params, describe: () => describeParams(params) };
  };
  return {
    name: "compose",
    transforms,
    spec: { name: "compose", options: { transforms: transforms.map((t) => t.spec) } },
    get module() {
      return augmentModulePath();
    },
    apply(img, rng) {
      const base = rng.int(0x7fffffff);
      return applyAll(img, (i, t) => Rng.derive(base, i, t.name));
    },
    run(img, key) {
      return applyAll(img, (i, t) => Rng.derive(key.seed, key.epoch, key.index, i, t.name));
    },
  };
}

/** The transform registry: name → factory from options. */
export const TRANSFORMS: Readonly<Record<string, (options: any) => Transform>> = Object.freeze({
  randomResizedCrop,
  centerCrop,
  resize: resizeImage,
  horizontalFlip,
  verticalFlip,
  rotate: randomRotation,
  colorJitter,
  coarseDropout,
  cutout,
  normalize: normalizeImage,
  compose: (o: { transforms: TransformSpec[] }) => compose(o.transforms.map(transformFromSpec)),
});

/** Rebuilds a transform from its spec; an unknown name throws listing the valid ones. */
export function transformFromSpec(spec: TransformSpec): Transform {
  const f = TRANSFORMS[spec?.name];
  if (!f) throw new Error(`unknown transform: ${String(spec?.name)} (expected ${Object.keys(TRANSFORMS).join("|")})`);
  return f(spec.options ?? {});
}
