import * as tf from '@tensorflow/tfjs-core';
import { entriesOf, type NamedTensors } from './named-tensors.js';

/**
 * Scales all gradients by min(1, maxNorm/(‖g‖ + 1e-6)), ‖g‖ the L2 norm over all of them
 * (torch.nn.utils.clip_grad_norm_). Returns new tensors (inputs untouched) and the norm before
 * clipping as a scalar; the caller disposes both.
 */
export function clipByGlobalNorm(grads: NamedTensors, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const entries = entriesOf(grads);
  return tf.tidy(() => {
    const squares = entries.map(([, g]) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(squares.length ? tf.addN(squares) : tf.scalar(0)) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    const out: Record<string, tf.Tensor> = {};
    for (const [name, g] of entries) out[name] = tf.mul(g, coef);
    return { grads: out, norm };
  });
}
