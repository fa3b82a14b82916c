import { readFile } from 'node:fs/promises';
import { InputError, writeFileAtomic } from '@irpo/contracts';

/** A tensor read from (or to be written to) a safetensors file, always float32 in memory. */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parses a safetensors header (u64 LE length, then JSON) of `buf`; `file` names it in errors. */
export function parseSafetensorsHeader(buf: Uint8Array, file: string): { header: Record<string, HeaderEntry>; dataStart: number } {
  if (buf.byteLength < 8)
    throw new InputError(file, undefined, undefined, `truncated file: ${buf.byteLength} bytes, the 8-byte header length is missing`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = Number(view.getBigUint64(0, true));
  if (8 + len > buf.byteLength) {
    throw new InputError(
      file,
      undefined,
      undefined,
      `header length ${len} is larger than the file (${buf.byteLength} bytes): truncated or not a safetensors file`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len)));
  } catch (e) {
    throw new InputError(file, undefined, 'header', `invalid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InputError(file, undefined, 'header', 'not a JSON object');
  const header: Record<string, HeaderEntry> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') continue;
    const e = entry as Partial<HeaderEntry>;
    if (typeof e?.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new InputError(file, undefined, name, 'header entry needs dtype, shape and data_offsets');
    }
    header[name] = e as HeaderEntry;
  }
  return { header, dataStart: 8 + len };
}

/** Reads every tensor of one safetensors file (F32, F16, BF16 → float32). */
export async function readSafetensors(file: string): Promise<Map<string, NamedTensor>> {
  const buf = await readFile(file);
  return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

export function decodeSafetensors(buf: Uint8Array, file: string): Map<string, NamedTensor> {
  const { header, dataStart } = parseSafetensorsHeader(buf, file);
  const dataLen = buf.byteLength - dataStart;
  const out = new Map<string, NamedTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (!(e.dtype in BYTES)) throw new InputError(file, undefined, name, `dtype ${e.dtype} is not supported (F32, F16, BF16)`);
    const dtype = e.dtype as SafetensorsDtype;
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end > dataLen)
      throw new InputError(
        file,
        undefined,
        name,
        `truncated file: data ends at byte ${dataStart + end} but the file has ${buf.byteLength}`,
      );
    if (end - begin !== count * BYTES[dtype]) {
      throw new InputError(
        file,
        undefined,
        name,
        `${end - begin} bytes for shape [${e.shape.join(', ')}] of ${dtype} (expected ${count * BYTES[dtype]})`,
      );
    }
    out.set(name, { shape: e.shape, data: toFloat32(buf, dataStart + begin, count, dtype) });
  }
  return out;
}

function toFloat32(buf: Uint8Array, offset: number, count: number, dtype: SafetensorsDtype): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(buf.buffer, buf.byteOffset + offset, count * BYTES[dtype]);
  if (dtype === 'F32') {
    // Header lengths are padded to 8, so data is usually aligned: copy without a per-element loop.
    if ((buf.byteOffset + offset) % 4 === 0) out.set(new Float32Array(buf.buffer, buf.byteOffset + offset, count));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bf16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 → bf16 bits, rounding to nearest even (NaN stays NaN). */
export function floatToBf16Bits(bits32: number): number {
  if ((bits32 & 0x7f800000) === 0x7f800000 && bits32 & 0x7fffff) return ((bits32 >>> 16) | 0x40) & 0xffff;
  const rounded = bits32 + 0x7fff + ((bits32 >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE 754 binary16 bits, rounding to nearest even; overflow → ±Inf, NaN stays NaN. */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13; // 23 mantissa bits down to 10
  let base = sign | (e << 10);
  if (e <= 0) {
    // subnormal half: the implicit 1 joins the mantissa, in units of 2^-24
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    base = sign;
  }
  let half = mant >>> shift;
  const rest = mant & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half++; // a carry into the exponent is right
  return base + half;
}

/** Encodes tensors as one safetensors file (names sorted, header padded to 8 bytes). */
export function encodeSafetensors(
  tensors: Map<string, NamedTensor>,
  dtype: 'F32' | 'BF16' | 'F16',
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.data.length * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors.get(name)!;
    if (dtype === 'F32') {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i]!, true);
      pos += 4 * data.length;
    } else if (dtype === 'BF16') {
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < data.length; i++) view.setUint16(pos + 2 * i, floatToBf16Bits(bits[i]!), true);
      pos += 2 * data.length;
    } else {
      for (let i = 0; i < data.length; i++) view.setUint16(pos + 2 * i, floatToHalfBits(data[i]!), true);
      pos += 2 * data.length;
    }
  }
  return out;
}

export async function writeSafetensors(file: string, tensors: Map<string, NamedTensor>, dtype: SafetensorsDtype): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, dtype));
}
