import { tf } from '@irpo/core';
import type { ModelSpec } from '@irpo/contracts';
import { LlamaModel } from './llama-model.js';
import { expectedWeightShapes } from './weight-names.js';

export interface CreateModelOptions {
  /** Seed of the random initialisation; the same seed gives the same weights. */
  seed?: number;
  /** Std of the normal init of linears and embeddings (HF initializer_range). */
  initStd?: number;
}

/** A randomly initialised model: normal(0, initStd) linears/embeddings, zero biases, unit norms. */
export function createModel(spec: ModelSpec, options: CreateModelOptions = {}): LlamaModel {
  const seed = options.seed ?? 0;
  const std = options.initStd ?? 0.02;
  const weights = new Map<string, tf.Tensor>();
  let i = 0;
  for (const [name, shape] of expectedWeightShapes(spec)) {
    i++;
    if (name.endsWith('norm.weight')) weights.set(name, tf.ones(shape));
    else if (name.endsWith('.bias')) weights.set(name, tf.zeros(shape));
    else weights.set(name, tf.randomNormal(shape, 0, std, 'float32', seed * 1009 + i));
  }
  return new LlamaModel(spec, weights);
}
