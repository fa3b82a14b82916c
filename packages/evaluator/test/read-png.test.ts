import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readPng } from './read-png.js';

/** CRC-32 of PNG chunks (ISO 3309), written out here so the test does not trust the reader. */
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

describe('readPng (test helper)', () => {
  it('decodes a 2×2 RGB image with Sub and Up filters', () => {
    // Pixels: row 0 red, green; row 1 blue, white.
    // Row 0, filter 1 (Sub): red, then green - red = (0-255, 255-0, 0) mod 256.
    // Row 1, filter 2 (Up): blue - red, white - green.
    const raw = Buffer.from([1, 255, 0, 0, 1, 255, 0, 2, 1, 0, 255, 255, 0, 255]);
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(2, 0);
    ihdr.writeUInt32BE(2, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const img = readPng(png);
    expect([img.width, img.height]).toEqual([2, 2]);
    expect([...img.rgba]).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
  });
});
