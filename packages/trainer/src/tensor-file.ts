import { readSafetensors, writeSafetensors, type NamedTensor } from '@irpo/model';
import { tf } from '@irpo/core';

/** Checkpoint tensors (weights, optimiser moments) as float32 safetensors. */
export async function saveTensors(file: string, tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>): Promise<void> {
  const named = new Map<string, NamedTensor>();
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of entries) named.set(name, { shape: t.shape, data: new Float32Array(await t.data()) });
  await writeSafetensors(file, named, 'F32');
}

export async function loadTensors(file: string): Promise<Map<string, tf.Tensor>> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of await readSafetensors(file)) out.set(name, tf.tensor(t.data, t.shape, 'float32'));
  return out;
}
