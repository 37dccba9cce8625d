/**
 * The transform contract every augmentation follows: `apply(image, rng)` returns a new image plus
 * the parameters it drew, and `describe()` renders them. `run(image, {seed, epoch, index})`
 * derives the stream with `Rng.derive(seed, epoch, index, name)`, so a sample's augmentation
 * depends only on (seed, epoch, index) — not on worker count or the order work is done in.
 */
import path from "node:path";
import type { ImageData32 } from "../data/image";
import { env } from "../env";
import { Rng } from "../rng";

/** A drawn parameter value. */
export type ParamValue = number | boolean | string | number[];

/** What a transform did to one image. */
export interface Applied {
  image: ImageData32;
  /** The transform's name and the parameters it drew (for `compose`, one entry per child). */
  params: Record<string, ParamValue>[];
  /** The drawn parameters as one line, e.g. `hflip(flipped) · rotate(angle=-7.3°)`. */
  describe(): string;
}

/** Which sample an augmentation is for: the stream is `Rng.derive(seed, epoch, index, …)`. */
export interface AugmentKey {
  seed: number;
  epoch: number;
  index: number;
}

/** A serialisable description of a transform: its registered name and its options. */
export interface TransformSpec {
  name: string;
  options: Record<string, unknown>;
}

/** One augmentation. */
export interface Transform {
  readonly name: string;
  /** The options it was built with (JSON-safe), enough to rebuild it with {@link transformFromSpec}. */
  readonly spec: TransformSpec;
  /** The module that can rebuild this transform from its spec (for DataLoader worker threads). */
  readonly module: string;
  /** Applies the transform with randomness from `rng`; never mutates `img`. */
  apply(img: ImageData32, rng: Rng): Applied;
  /** Applies it with the stream for (seed, epoch, index). */
  run(img: ImageData32, key: AugmentKey): Applied;
}

/** The augment module's entry file (what worker threads import to rebuild transforms). */
export function augmentModulePath(): string {
  return path.join(env.root, "src", "augment", "index.ts");
}

function fmt(v: ParamValue): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (Array.isArray(v)) return `[${v.map((x) => (Number.isInteger(x) ? String(x) : x.toFixed(3))).join(",")}]`;
  return String(v);
}

/** Formats drawn parameters as `name(k=v, …)`. */
export function describeParams(params: readonly Record<string, ParamValue>[]): string {
  return params
    .map((p) => {
      const { name, ...rest } = p;
      const kv = Object.entries(rest).map(([k, v]) => `${k}=${fmt(v)}`);
      return `${String(name)}(${kv.join(", ")})`;
    })
    .join(" · ");
}

/** Builds an `Applied` result for one transform. */
export function applied(image: ImageData32, name: string, drawn: Record<string, ParamValue>): Applied {
  const params = [{ name, ...drawn }];
  return { image, params, describe: () => describeParams(params) };
}

/** Makes a Transform from a name, its options and an apply function. */
export function defineTransform(name: string, options: Record<string, unknown>, apply: (img: ImageData32, rng: Rng) => Applied): Transform {
  return {
    name,
    spec: { name, options: JSON.parse(JSON.stringify(options)) },
    get module() {
      return augmentModulePath();
    },
    apply,
    run(img, key) {
      return apply(img, Rng.derive(key.seed, key.epoch, key.index, name));
    },
  };
}

/** Copies an image. */
export function cloneImage(img: ImageData32): ImageData32 {
  return { data: new Float32Array(img.data), height: img.height, width: img.width, channels: 3 };
}

/** Checks a probability option. */
export function checkP(p: number, where: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${where}: p must be in [0, 1], got ${p}`);
  return p;
}

/** Checks a [lo, hi] range option. */
export function checkRange(r: readonly [number, number], where: string, min = Number.NEGATIVE_INFINITY): [number, number] {
  if (!Array.isArray(r) || r.length !== 2 || !(r[0] <= r[1]) || r[0] < min) {
    throw new Error(`${where}: expected [lo, hi] with ${Number.isFinite(min) ? `${min} <= ` : ""}lo <= hi, got ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

/** Rejects unknown option keys, listing the valid ones. */
export function checkKeys(opts: object, valid: readonly string[], where: string): void {
  for (const k of Object.keys(opts)) {
    if (!valid.includes(k)) throw new Error(`${where}: unknown option ${k} (expected ${valid.join("|")})`);
  }
}
