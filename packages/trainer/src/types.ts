/** The model surface the trainer needs: @irpo/model's interfaces, training needs no decoding. */
import type { CausalLM } from '@irpo/model';

export type { Tokenizer } from '@irpo/model';

export type TrainableLM = Pick<CausalLM, 'spec' | 'forward' | 'forwardAt' | 'variables'> & {
  /** Present on models that can recompute activations in the backward pass (LlamaModel). */
  gradientCheckpointing?: boolean;
};
