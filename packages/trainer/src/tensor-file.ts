import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@irpo/contracts';
import { tf } from '@irpo/core';

// PROVISIONAL: float32 safetensors for checkpoints; replaced by @irpo/model's safetensors IO.

export async function saveTensors(file: string, tensors: Map<string, tf.Tensor>): Promise<void> {
  const names = [...tensors.keys()].sort();
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const data = new Float32Array(await t.data());
    const bytes = new Uint8Array(data.buffer);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  await writeFileAtomic(file, Buffer.concat([head, Buffer.from(json), ...chunks]));
}

export async function loadTensors(file: string): Promise<Map<string, tf.Tensor>> {
  const buf = await readFile(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, tf.Tensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = h.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const copy = new Float32Array(bytes.length / 4);
    new Uint8Array(copy.buffer).set(bytes);
    out.set(name, tf.tensor(copy, h.shape, 'float32'));
  }
  return out;
}
