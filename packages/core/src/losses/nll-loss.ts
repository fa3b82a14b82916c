import * as tf from '@tensorflow/tfjs-core';
import type { LossOutput } from './dpo-loss.js';

/**
 * How the NLL term is normalised. 'per-sequence' (the paper, default): each sequence's summed
 * log-prob over its own length, then the batch mean. 'token-mean' (TRL parity): the batch's
 * summed log-prob over its total token count.
 */
export type NllNormalization = 'per-sequence' | 'token-mean';

/**
 * Negative log-likelihood of the chosen responses. logps [B] (summed), lengths [B] (response
 * tokens, ≥ 1). Per-example values are chosen so their batch mean is the loss in either mode:
 * per-sequence −logp_i/len_i; token-mean −logp_i/mean(len) (whose mean is −Σlogp/Σlen).
 */
export function nllLoss(logps: tf.Tensor1D, lengths: tf.Tensor1D, options: { normalization?: NllNormalization } = {}): LossOutput {
  const normalization = options.normalization ?? 'per-sequence';
  const losses = tf.tidy(() => {
    const len = tf.maximum(tf.cast(lengths, 'float32'), 1); // an empty response contributes 0, not NaN
    const denom = normalization === 'per-sequence' ? len : tf.mean(len);
    return tf.div(tf.neg(logps), denom) as tf.Tensor1D;
  });
  const metrics = tf.tidy(() => ({ nll: tf.mean(losses) as tf.Scalar }));
  return { losses, metrics };
}
