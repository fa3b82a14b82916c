import type { tf } from '@irpo/core';
import type { ModelSpec } from '@irpo/contracts';
import type { KvCache } from './kv-cache.js';

/** The generation/training surface the sampler and trainer build against. */
export interface CausalLM {
  readonly spec: ModelSpec;
  /** Right-padded ids [B,T] int32 and mask [B,T] (1 real, 0 pad) → logits [B,T,V]; differentiable. */
  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D;
  /** As forward, but logits [N,V] at N flat positions (b·T + t) only; optional. */
  forwardAt?(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D | undefined, positions: tf.Tensor1D): tf.Tensor2D;
  /** LEFT-padded prompt ids + mask → last-position logits [B,V] and a fresh cache. */
  prefill(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, maxNewTokens: number): { logits: tf.Tensor2D; cache: KvCache };
  /** Next token per row [B] int32 → logits [B,V]; appends to the cache in place. */
  decode(tokens: tf.Tensor1D, cache: KvCache): tf.Tensor2D;
  /** Trainable weights by Hugging Face tensor name. */
  readonly variables: Map<string, tf.Variable>;
  /**
   * What training differentiates: a LoRA adapter's A/B matrices while one is attached, else
   * `variables`. Absent on models without adapters; use `trainableVariables ?? variables`.
   */
  readonly trainableVariables?: Map<string, tf.Variable>;
  dispose(): void;
}
