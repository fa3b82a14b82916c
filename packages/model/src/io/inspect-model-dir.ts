import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '@irpo/contracts';
import { headDimOf } from '../config/hf-config.js';
import { estimateMemory, parameterCount, type MemoryEstimate } from '../config/model-size.js';
import { readModelSpec } from './checkpoint.js';
import { parseSafetensorsHeader, type SafetensorsDtype } from './safetensors.js';

export interface ModelDirInfo {
  dir: string;
  architecture: string;
  spec: ModelSpec;
  headDim: number;
  parameters: number;
  /** Stored dtypes of the safetensors files (empty when the directory has only config.json). */
  dtypes: string[];
  /** Bytes of tensor data on disk. */
  weightBytesOnDisk: number;
  vocabSize: number;
  memory: MemoryEstimate;
}

/** Reads only the 8-byte length and the JSON header of a safetensors file. */
async function readHeader(file: string): Promise<ReturnType<typeof parseSafetensorsHeader>['header']> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const lenBuf = new Uint8Array(8);
    await fh.read(lenBuf, 0, 8, 0);
    const len = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
    const buf = new Uint8Array(Math.min(8 + len, size));
    await fh.read(buf, 0, buf.length, 0);
    return parseSafetensorsHeader(buf, file).header;
  } finally {
    await fh.close();
  }
}

/** Architecture, size and a training memory estimate of a model directory without loading weights. */
export async function inspectModelDir(dir: string, batch = 1, length = 512): Promise<ModelDirInfo> {
  const spec = await readModelSpec(dir);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort();
  const dtypes = new Set<string>();
  let bytes = 0;
  for (const f of files) {
    for (const e of Object.values(await readHeader(join(dir, f)))) {
      dtypes.add(e.dtype);
      bytes += e.data_offsets[1] - e.data_offsets[0];
    }
  }
  return {
    dir,
    architecture: spec.architecture,
    spec,
    headDim: headDimOf(spec),
    parameters: parameterCount(spec),
    dtypes: [...dtypes].sort(),
    weightBytesOnDisk: bytes,
    vocabSize: spec.vocabSize,
    memory: estimateMemory(spec, batch, length),
  };
}

const FROM_TORCH: Record<string, SafetensorsDtype> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };

/**
 * The dtype a model folder is meant to run in, as servers read it: config.json's `torch_dtype`
 * (or `dtype`, its newer name) when it is float32, bfloat16 or float16; else the one dtype its
 * safetensors hold; else F32.
 */
export async function storedDtype(dir: string): Promise<SafetensorsDtype> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { torch_dtype?: unknown; dtype?: unknown };
  const named = config.torch_dtype ?? config.dtype;
  if (typeof named === 'string' && named in FROM_TORCH) return FROM_TORCH[named]!;
  const dtypes = new Set<string>();
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.safetensors')))
    for (const e of Object.values(await readHeader(join(dir, f)))) dtypes.add(e.dtype);
  const only = dtypes.size === 1 ? [...dtypes][0]! : undefined;
  return only === 'BF16' || only === 'F16' ? only : 'F32';
}
