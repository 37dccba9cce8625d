// Bad PNG files for the tests of image errors (test/data/bad_images, test/bad_input).
import { readFileSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid PNG header (IHDR) claiming width × height, with one tiny IDAT and IEND: its header reads, its pixels do not exist. */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(new Uint8Array(4))), chunk("IEND", new Uint8Array(0))]);
}

/** Cuts the end off a PNG (IEND and part of IDAT): its header still reads, its pixels do not decode. */
export const truncate = (file: string) => {
  const b = readFileSync(file);
  writeFileSync(file, b.subarray(0, b.length - 24));
};

