import type { ModelSpec } from '@irpo/contracts';
import { expectedWeightShapes } from '../llama/weight-names.js';
import { headDimOf } from './hf-config.js';

/** Trainable parameters (a tied head counts once). */
export function parameterCount(spec: ModelSpec): number {
  let n = 0;
  for (const shape of expectedWeightShapes(spec).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

export interface MemoryEstimate {
  parameters: number;
  /** float32 weights. */
  weightsBytes: number;
  /** float32 gradients, one per weight. */
  gradsBytes: number;
  /** AdamW's first and second moments. */
  optimizerBytes: number;
  /** Tensors kept for the backward pass of one batch × length step. */
  activationsBytes: number;
  /** The sum; a floor, since the runtime adds workspace on top. */
  totalBytes: number;
  batch: number;
  length: number;
}

/**
 * Bytes needed to train on a batch of `batch` sequences of `length` tokens in float32. Activations
 * count what the tape keeps per layer and token: residual, two norms, q/k/v before and after RoPE,
 * attention output, projections, the four MLP intermediates, plus scores and probabilities
 * (heads × length per token) and the logits with their softmax and gradient (3 × vocab per token).
 */
export function estimateMemory(spec: ModelSpec, batch: number, length: number): MemoryEstimate {
  const params = parameterCount(spec);
  const d = headDimOf(spec);
  const qDim = spec.numHeads * d;
  const kvDim = spec.numKvHeads * d;
  const perTokenPerLayer = 5 * spec.hiddenSize + 2 * (qDim + 2 * kvDim) + qDim + 4 * spec.intermediateSize + 2 * spec.numHeads * length;
  const tokens = batch * length;
  const activations = 4 * tokens * (spec.numLayers * perTokenPerLayer + 2 * spec.hiddenSize + 3 * spec.vocabSize);
  const weightsBytes = 4 * params;
  const gradsBytes = 4 * params;
  const optimizerBytes = 8 * params;
  return {
    parameters: params,
    weightsBytes,
    gradsBytes,
    optimizerBytes,
    activationsBytes: activations,
    totalBytes: weightsBytes + gradsBytes + optimizerBytes + activations,
    batch,
    length,
  };
}
