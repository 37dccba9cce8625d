/**
 * Perceptual hashing (DCT pHash), the `image_phash` column of a Shopee-style `train.csv`.
 *
 * The algorithm is the classic one (as in Python's `imagehash.phash`): greyscale, shrink to
 * 32×32, 2-D DCT-II, keep the 8×8 lowest frequencies, and set each bit where the coefficient is
 * above their median. Near-identical images get hashes a small Hamming distance apart.
 */

/** Options for {@link phash}. */
export interface PhashOptions {
  /** Channels per pixel in `pixels` (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). Defaults to `pixels.length / (width * height)`. */
  channels?: number;
  /** Bits per side of the hash (the hash has `hashSize²` bits). Defaults to 8 (a 64-bit, 16-hex-digit hash). */
  hashSize?: number;
  /** The image is shrunk to `hashSize * highFreqFactor` per side before the DCT. Defaults to 4. */
  highFreqFactor?: number;
}

/** Converts interleaved pixels to greyscale luma (ITU-R 601, as PIL's "L") in [0, 255]; alpha is composited over white. */
function toGrey(pixels: ArrayLike<number>, width: number, height: number, channels: number): Float64Array {
  const n = width * height;
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    let v: number;
    let a = 1;
    if (channels >= 3) {
      v = 0.299 * pixels[o]! + 0.587 * pixels[o + 1]! + 0.114 * pixels[o + 2]!;
      if (channels === 4) a = pixels[o + 3]! / 255;
    } else {
      v = pixels[o]!;
      if (channels === 2) a = pixels[o + 1]! / 255;
    }
    g[i] = v * a + 255 * (1 - a);
  }
  return g;
}

/** Shrinks a greyscale image to `side`×`side` by area averaging (each output pixel is the mean of the input area it covers). */
function shrinkArea(g: Float64Array, width: number, height: number, side: number): Float64Array {
  const out = new Float64Array(side * side);
  const sx = width / side;
  const sy = height / side;
  for (let oy = 0; oy < side; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < side; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let wsum = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx <= 0) continue;
          sum += g[y * width + x]! * wx * wy;
          wsum += wx * wy;
        }
      }
      out[oy * side + ox] = wsum > 0 ? sum / wsum : 0;
    }
  }
  return out;
}

const cosTables = new Map<number, Float64Array>();

/** cos(π (2x + 1) u / 2N) for u, x in [0, N): the unnormalised DCT-II basis (scaling does not change the hash). */
function cosTable(n: number): Float64Array {
  let t = cosTables.get(n);
  if (!t) {
    t = new Float64Array(n * n);
    for (let u = 0; u < n; u++) for (let x = 0; x < n; x++) t[u * n + x] = Math.cos((Math.PI * (2 * x + 1) * u) / (2 * n));
    cosTables.set(n, t);
  }
  return t;
}

/** The `keep`×`keep` lowest-frequency coefficients of the 2-D DCT-II of an n×n image (row-major, [v][u]). */
export function dctLowFrequencies(img: Float64Array, n: number, keep: number): Float64Array {
  const c = cosTable(n);
  // rows: tmp[y][u] = Σx img[y][x] cos(u, x)
  const tmp = new Float64Array(n * keep);
  for (let y = 0; y < n; y++) {
    for (let u = 0; u < keep; u++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += img[y * n + x]! * c[u * n + x]!;
      tmp[y * keep + u] = s;
    }
  }
  // columns: out[v][u] = Σy tmp[y][u] cos(v, y)
  const out = new Float64Array(keep * keep);
  for (let v = 0; v < keep; v++) {
    for (let u = 0; u < keep; u++) {
      let s = 0;
      for (let y = 0; y < n; y++) s += tmp[y * keep + u]! * c[v * n + y]!;
      out[v * keep + u] = s;
    }
  }
  return out;
}

/**
 * The DCT perceptual hash of an image as lowercase hex (16 digits for the default 64 bits), the
 * same form as Shopee's `image_phash`.
 * @example
 * const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
 * const h = phash(data, info.width, info.height, { channels: info.channels });
 */
export function phash(pixels: ArrayLike<number>, width: number, height: number, opts: PhashOptions = {}): string {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`phash: width and height must be positive integers, got ${width}x${height}`);
  }
  const { channels = pixels.length / (width * height), hashSize = 8, highFreqFactor = 4 } = opts;
  if (![1, 2, 3, 4].includes(channels)) {
    throw new Error(`phash: channels must be 1, 2, 3 or 4, got ${channels} (pixels.length ${pixels.length} for ${width}x${height})`);
  }
  if (pixels.length !== width * height * channels) {
    throw new Error(`phash: expected ${width * height * channels} values for ${width}x${height}x${channels}, got ${pixels.length}`);
  }
  if (!Number.isInteger(hashSize) || hashSize < 2 || !Number.isInteger(highFreqFactor) || highFreqFactor < 1) {
    throw new Error(`phash: hashSize must be an integer ≥ 2 and highFreqFactor an integer ≥ 1, got ${hashSize}, ${highFreqFactor}`);
  }
  const side = hashSize * highFreqFactor;
  const small = shrinkArea(toGrey(pixels, width, height, channels), width, height, side);
  const low = dctLowFrequencies(small, side, hashSize);
  const sorted = Float64Array.from(low).sort();
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  let hex = "";
  for (let i = 0; i < low.length; i += 4) {
    let nibble = 0;
    for (let b = 0; b < 4; b++) nibble = (nibble << 1) | (i + b < low.length && low[i + b]! > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** The Hamming distance between two hex hashes of equal length (the number of differing bits). */
export function phashDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new Error(`phashDistance: hashes differ in length (${a.length} vs ${b.length})`);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number.parseInt(a[i]!, 16);
    const y = Number.parseInt(b[i]!, 16);
    if (Number.isNaN(x) || Number.isNaN(y)) throw new Error(`phashDistance: not a hex hash: ${JSON.stringify(Number.isNaN(x) ? a : b)}`);
    let v = x ^ y;
    while (v) {
      d += v & 1;
      v >>= 1;
    }
  }
  return d;
}
