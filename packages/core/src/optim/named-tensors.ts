import type * as tf from '@tensorflow/tfjs-core';

/** Tensors by name: what tf.variableGrads returns (a record) or a model's variables (a map). */
export type NamedTensors<T extends tf.Tensor = tf.Tensor> = Record<string, T> | Map<string, T>;

export function entriesOf<T extends tf.Tensor>(x: NamedTensors<T>): [string, T][] {
  return x instanceof Map ? [...x.entries()] : Object.entries(x);
}
