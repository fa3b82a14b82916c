import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '@irpo/contracts';
import { headDimOf } from '../config/hf-config.js';
import { estimateMemory, parameterCount, type MemoryEstimate } from '../config/model-size.js';
import { readModelSpec } from './checkpoint.js';
import { parseSafetensorsHeader } from './safetensors.js';

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
