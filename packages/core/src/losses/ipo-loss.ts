import * as tf from '@tensorflow/tfjs-core';
import { logRatioMargin, preferenceMetrics, type LossOutput, type PairLogps } from './dpo-loss.js';

/** IPO (Azar et al. 2023) per pair: (h − 1/(2β))², h the log-ratio margin (as TRL's `ipo`). */
export function ipoLoss(l: PairLogps, options: { beta?: number } = {}): LossOutput {
  const beta = options.beta ?? 0.1;
  if (!(beta > 0)) throw new Error(`ipoLoss: beta must be > 0, got ${beta}`);
  const losses = tf.tidy(() => tf.square(tf.sub(logRatioMargin(l), 1 / (2 * beta))) as tf.Tensor1D);
  return { losses, metrics: preferenceMetrics(l, beta) };
}
