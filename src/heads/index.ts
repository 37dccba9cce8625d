// The public surface of src/heads: classification heads as registered tfjs layers.
import type * as tf from "@tensorflow/tfjs";
import { adaCos } from "./adacos";
import { arcFace, subCenterArcFace } from "./arcface";
import { cosFace } from "./cosface";
import { softmaxHead } from "./softmax";

export * from "./adacos";
export * from "./arcface";
export * from "./class_text";
export { CosineHead, type HeadOptions, l2Normalize, oneHotLabels } from "./common";
export * from "./cosface";
export * from "./margin";
export * from "./softmax";

/** A head name usable in configs. (The class-text head needs embeddings, so it is built in code.) */
export type HeadName = "softmax" | "arcface" | "cosface" | "adacos" | "subcenter_arcface";

/** Options any registry head accepts (each uses the ones it knows). */
export interface AnyHeadOptions {
  classes: number;
  seed?: number;
  name?: string;
  s?: number;
  m?: number;
  easyMargin?: boolean;
  /** Sub-centres per class: subcenter_arcface only (the other heads have one). */
  k?: number;
}

/** Frozen name → factory table of the heads. */
export const HEADS: Readonly<Record<HeadName, (o: AnyHeadOptions) => tf.layers.Layer>> = Object.freeze({
  softmax: (o: AnyHeadOptions) => softmaxHead({ classes: o.classes, seed: o.seed, name: o.name }),
  arcface: ({ k: _k, ...o }: AnyHeadOptions) => arcFace(o), // one centre per class: k is subcenter_arcface's
  cosface: ({ k: _k, ...o }: AnyHeadOptions) => cosFace(o),
  adacos: (o: AnyHeadOptions) => adaCos({ classes: o.classes, seed: o.seed, name: o.name }),
  subcenter_arcface: (o: AnyHeadOptions) => subCenterArcFace(o),
});

/** The head names, from the {@link HEADS} table. */
export const HEAD_NAMES: readonly HeadName[] = Object.freeze(Object.keys(HEADS) as HeadName[]);

/** Builds a head by name; an unknown name throws listing the valid ones. */
export function makeHead(name: string, opts: AnyHeadOptions): tf.layers.Layer {
  const f = (HEADS as Record<string, (o: AnyHeadOptions) => tf.layers.Layer>)[name];
  if (!f) throw new Error(`unknown head: ${name} (expected ${Object.keys(HEADS).join("|")})`);
  return f(opts);
}
