/** Deterministic per-layer initialiser seeds: every layer of a model gets its own seed from one base seed. */
import * as tf from "@tensorflow/tfjs";
import { hash32 } from "../rng";

/** Hands out distinct, reproducible seeds (and seeded initialisers) in build order. */
export class SeedSequence {
  private i = 0;
  constructor(readonly base: number) {}
  /** The next seed. */
  next(): number {
    return hash32(hash32(this.base) ^ hash32(++this.i + 0x51ed27)) % 2147483647;
  }
  /** A seeded He-normal initialiser (for ReLU convolutions). */
  he(): tf.serialization.Serializable {
    return tf.initializers.heNormal({ seed: this.next() });
  }
  /** A seeded Glorot-uniform initialiser. */
  glorot(): tf.serialization.Serializable {
    return tf.initializers.glorotUniform({ seed: this.next() });
  }
}

/** Factory for {@link SeedSequence}. */
export function seedSequence(base: number): SeedSequence {
  return new SeedSequence(base);
}
