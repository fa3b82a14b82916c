/** The model surface the trainer needs: @irpo/model's interfaces, training needs no decoding. */
import type { tf } from '@irpo/core';
import type { CausalLM } from '@irpo/model';

export type { Tokenizer } from '@irpo/model';

export type TrainableLM = Pick<CausalLM, 'spec' | 'forward' | 'forwardAt' | 'variables'> & {
  /** Present on models that can recompute activations in the backward pass (LlamaModel). */
  gradientCheckpointing?: boolean;
  /**
   * What a step differentiates when it differs from `variables`: with a LoRA adapter attached
   * (LlamaModel), only its A and B; the base is frozen (no gradients, no optimiser state).
   */
  readonly trainableVariables?: Map<string, tf.Variable>;
  /** Train-time behaviour (LoRA dropout); the trainer sets it while it steps, then restores it. */
  training?: boolean;
};
