import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storedDtype } from './inspect-model-dir.js';
import { encodeSafetensors, floatToBf16Bits, floatToHalfBits, halfToFloat } from './safetensors.js';

describe('floatToHalfBits (IEEE 754 binary16, round to nearest even)', () => {
  it('encodes values derived by hand', () => {
    // 1 = 2^0: exponent 15 → 0 01111 0000000000
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(-2)).toBe(0xc000);
    // largest finite: (2 - 2^-10)·2^15 = 65504 → 0 11110 1111111111
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    // 65520 is halfway between 65504 and 2^16; the even neighbour is 2^16, which overflows to +Inf
    expect(floatToHalfBits(65520)).toBe(0x7c00);
    expect(floatToHalfBits(65519)).toBe(0x7bff);
    // smallest subnormal 2^-24 → 0x0001; 2^-25 is halfway between 0 and it → even: 0
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000);
    // 3·2^-25 = 1.5 steps → rounds to the even 2 steps
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002);
    // smallest normal 2^-14 → 0 00001 0000000000
    expect(floatToHalfBits(2 ** -14)).toBe(0x0400);
    // 0.1 = 1.6·2^-4: mantissa 0.6·1024 = 614.4 → 614 = 0x266; exponent 11 → 0x2c00 + 0x266
    expect(floatToHalfBits(0.1)).toBe(0x2e66);
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10 → even: 1; 1 + 3·2^-11 → 1 + 2^-9
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(floatToHalfBits(Infinity)).toBe(0x7c00);
    expect(floatToHalfBits(1e10)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalfBits(NaN)))).toBe(true);
  });

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf and NaN
      expect(floatToHalfBits(halfToFloat(h))).toBe(h);
    }
  });
});

describe('storedDtype', () => {
  it("reads config.json's torch_dtype, else the weights' one dtype, else F32", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-dtype-'));
    const weights = (dtype: 'F32' | 'BF16' | 'F16') =>
      encodeSafetensors(new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]), dtype);
    await writeFile(join(dir, 'model.safetensors'), weights('F16'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ torch_dtype: 'bfloat16' }));
    expect(await storedDtype(dir)).toBe('BF16');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ dtype: 'float16' }));
    expect(await storedDtype(dir)).toBe('F16');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ torch_dtype: 'auto' }));
    expect(await storedDtype(dir)).toBe('F16'); // from the weights
    await writeFile(join(dir, 'model.safetensors'), weights('F32'));
    expect(await storedDtype(dir)).toBe('F32');
    // bf16 bits of 1 and 2 for reference: the top halves of their float32 bits
    expect(floatToBf16Bits(0x3f800000)).toBe(0x3f80);
  });
});
