import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, type ModelSpec } from '@irpo/contracts';
import { expectedWeightShapes, parseSafetensorsHeader, readModelSpec } from '@irpo/model';

const DTYPES = new Set(['F32', 'F16', 'BF16']);

/**
 * Checks that a Hugging Face checkpoint folder would load, without reading its weights (a
 * launched trainer's model may be far larger than this process can hold): config.json parses
 * into a supported architecture, and model.safetensors (or the shards model.safetensors.index.json
 * names) hold every tensor that config asks for, with its shape, in a dtype irpo reads, with
 * all its bytes present. Throws InputError naming the file and tensor at fault.
 */
export async function checkCheckpoint(dir: string): Promise<ModelSpec> {
  const spec = await readModelSpec(dir);
  const files = await weightFiles(dir);
  const found = new Map<string, { file: string; shape: number[]; dtype: string }>();
  for (const file of files) {
    const { header, dataStart } = await readHeader(file);
    const size = (await stat(file)).size;
    for (const [name, e] of Object.entries(header)) {
      if (dataStart + e.data_offsets[1] > size)
        throw new InputError(
          file,
          undefined,
          name,
          `data ends at byte ${dataStart + e.data_offsets[1]} but the file has ${size}: truncated`,
        );
      found.set(name, { file, shape: e.shape, dtype: e.dtype });
    }
  }
  for (const [name, shape] of expectedWeightShapes(spec)) {
    const t = found.get(name);
    if (!t)
      throw new InputError(
        files.length === 1 ? files[0]! : join(dir, 'model.safetensors.index.json'),
        undefined,
        name,
        `tensor is missing (config.json asks for shape [${shape.join(', ')}])`,
      );
    if (t.shape.join(',') !== shape.join(','))
      throw new InputError(t.file, undefined, name, `shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    if (!DTYPES.has(t.dtype)) throw new InputError(t.file, undefined, name, `dtype ${t.dtype} is not supported (F32, F16, BF16)`);
  }
  return spec;
}

/** model.safetensors, or the shards of model.safetensors.index.json. */
async function weightFiles(dir: string): Promise<string[]> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (!existsSync(indexFile)) {
    const bin = existsSync(join(dir, 'pytorch_model.bin')) || existsSync(join(dir, 'pytorch_model.bin.index.json'));
    throw new InputError(
      dir,
      undefined,
      undefined,
      bin
        ? 'holds pytorch_model.bin (a pickle irpo cannot read): have the trainer save safetensors (transformers: save_safetensors=True, the default)'
        : 'no model.safetensors or model.safetensors.index.json',
    );
  }
  let index: { weight_map?: Record<string, string> };
  try {
    index = JSON.parse(await readFile(indexFile, 'utf8')) as typeof index;
  } catch (e) {
    throw new InputError(indexFile, undefined, undefined, `invalid JSON (${(e as Error).message})`);
  }
  if (!index.weight_map || typeof index.weight_map !== 'object') throw new InputError(indexFile, undefined, 'weight_map', 'missing');
  const shards = [...new Set(Object.values(index.weight_map))].map((s) => join(dir, s));
  for (const s of shards)
    if (!existsSync(s)) throw new InputError(s, undefined, undefined, 'shard named in model.safetensors.index.json is missing');
  return shards;
}

/** The header of a safetensors file, reading only its first bytes. */
async function readHeader(file: string): Promise<ReturnType<typeof parseSafetensorsHeader>> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    const len = Number(head.readBigUInt64LE(0));
    const size = (await fh.stat()).size;
    if (8 + len > size) return parseSafetensorsHeader(new Uint8Array(head), file); // reports the truncation
    const buf = Buffer.alloc(8 + len);
    await fh.read(buf, 0, 8 + len, 0);
    return parseSafetensorsHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
  } finally {
    await fh.close();
  }
}
