import { join } from 'node:path';
import { tf } from '@irpo/core';
import { InputError, writeJsonAtomic, type ModelSpec } from '@irpo/contracts';
import { hfConfigFromSpec, specFromHfConfig } from '../config/hf-config.js';
import { LlamaModel } from '../llama/llama-model.js';
import { expectedWeightShapes } from '../llama/weight-names.js';
import { readSafetensors, writeSafetensors, type NamedTensor, type SafetensorsDtype } from './safetensors.js';
import { exists, readJson } from './json-file.js';

/** The spec from `<dir>/config.json`. */
export async function readModelSpec(dir: string): Promise<ModelSpec> {
  const file = join(dir, 'config.json');
  return specFromHfConfig(await readJson(file, 'a model directory'), file);
}

/** Every tensor of `model.safetensors` or the shards named by `model.safetensors.index.json`. */
export async function readCheckpointTensors(
  dir: string,
): Promise<{ tensors: Map<string, NamedTensor>; sourceOf: (name: string) => string }> {
  const single = join(dir, 'model.safetensors');
  if (await exists(single)) {
    return { tensors: await readSafetensors(single), sourceOf: () => single };
  }
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (!(await exists(indexFile))) throw new InputError(dir, undefined, undefined, 'no model.safetensors or model.safetensors.index.json');
  const index = (await readJson(indexFile, 'a model directory')) as { weight_map?: Record<string, string> };
  if (!index.weight_map || typeof index.weight_map !== 'object') throw new InputError(indexFile, undefined, 'weight_map', 'missing');
  const tensors = new Map<string, NamedTensor>();
  const files = new Map<string, string>();
  for (const shard of new Set(Object.values(index.weight_map))) {
    const file = join(dir, shard);
    for (const [name, t] of await readSafetensors(file)) {
      tensors.set(name, t);
      files.set(name, file);
    }
  }
  for (const [name, shard] of Object.entries(index.weight_map)) {
    if (!tensors.has(name))
      throw new InputError(join(dir, shard), undefined, name, 'tensor listed in model.safetensors.index.json is missing from its shard');
  }
  return { tensors, sourceOf: (name) => files.get(name) ?? indexFile };
}

/** Loads config.json and the weights of a Hugging Face checkpoint directory. */
export async function loadCheckpoint(dir: string): Promise<{ model: LlamaModel; spec: ModelSpec }> {
  const spec = await readModelSpec(dir);
  const { tensors, sourceOf } = await readCheckpointTensors(dir);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const [name, shape] of expectedWeightShapes(spec)) {
      const t = tensors.get(name);
      if (!t) throw new InputError(sourceOf(name), undefined, name, `tensor is missing (the config asks for shape [${shape.join(', ')}])`);
      if (t.shape.join(',') !== shape.join(',')) {
        throw new InputError(
          sourceOf(name),
          undefined,
          name,
          `shape mismatch: file has [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`,
        );
      }
      weights.set(name, tf.tensor(t.data, shape, 'float32'));
      tensors.delete(name);
    }
  } catch (e) {
    tf.dispose([...weights.values()]);
    throw e;
  }
  return { model: new LlamaModel(spec, weights), spec };
}

export interface SaveCheckpointOptions {
  /** Stored dtype: F32 is exact; BF16 and F16 halve the file, rounding each weight to nearest even. */
  dtype?: SafetensorsDtype;
}

/** config.json's torch_dtype of each stored dtype. */
export const TORCH_DTYPE = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' } as const;

/** Writes config.json and model.safetensors (atomically, file by file). */
export async function saveCheckpoint(
  dir: string,
  model: { spec: ModelSpec; variables: Map<string, tf.Variable> },
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  const tensors = new Map<string, NamedTensor>();
  for (const [name, v] of model.variables) tensors.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, dtype);
  await writeJsonAtomic(join(dir, 'config.json'), hfConfigFromSpec(model.spec, TORCH_DTYPE[dtype]));
}
