import * as tf from '@tensorflow/tfjs-core';
import { dpoLoss, type DpoOptions, type LossOutput, type PairLogps } from './dpo-loss.js';
import { nllLoss, type NllNormalization } from './nll-loss.js';

export interface DpoNllOptions extends DpoOptions {
  /** Weight of the NLL term on the chosen (correct) responses; the paper's 1. */
  alpha?: number;
  normalization?: NllNormalization;
}

/**
 * IRPO's loss per pair: dpo + α·nll (Pang et al. 2024, eq. 1). chosenLengths [B] counts the
 * chosen response tokens. Metrics: the DPO ones, plus nll, loss/dpo and loss.
 */
export function dpoNll(l: PairLogps, chosenLengths: tf.Tensor1D, options: DpoNllOptions = {}): LossOutput {
  const alpha = options.alpha ?? 1;
  const dpo = dpoLoss(l, options);
  const nll = nllLoss(l.policyChosen, chosenLengths, { normalization: options.normalization });
  const losses = tf.tidy(() => tf.add(dpo.losses, tf.mul(nll.losses, alpha)) as tf.Tensor1D);
  const extra = tf.tidy(() => ({
    'loss/dpo': tf.mean(dpo.losses) as tf.Scalar,
    loss: tf.mean(losses) as tf.Scalar,
  }));
  dpo.losses.dispose();
  nll.losses.dispose();
  return { losses, metrics: { ...dpo.metrics, ...nll.metrics, ...extra } };
}

/** Reads metric scalars into numbers and disposes them. */
export async function readMetrics(metrics: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    out[k] = (await v.data())[0]!;
    v.dispose();
  }
  return out;
}
