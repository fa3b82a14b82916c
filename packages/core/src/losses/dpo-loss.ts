import * as tf from '@tensorflow/tfjs-core';

/** Summed response log-probs of a batch of pairs under the policy and the frozen reference, each [B]. */
export interface PairLogps {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  refChosen: tf.Tensor1D;
  refRejected: tf.Tensor1D;
}

/** Per-example losses [B] and batch-mean metrics (scalars, under TRL's names). */
export interface LossOutput {
  losses: tf.Tensor1D;
  metrics: Record<string, tf.Scalar>;
}

export interface DpoOptions {
  /** Strength of the KL anchor to the reference; the paper's 0.1. */
  beta?: number;
  /** Conservative DPO (Mitchell 2023): assumed probability that a pair's labels are flipped; 0 = plain DPO. */
  labelSmoothing?: number;
}

/** h = (logπ(w) − logπref(w)) − (logπ(l) − logπref(l)), the log-ratio margin [B]. */
export function logRatioMargin(l: PairLogps): tf.Tensor1D {
  return tf.tidy(() => tf.sub(tf.sub(l.policyChosen, l.refChosen), tf.sub(l.policyRejected, l.refRejected)));
}

/**
 * Implicit-reward metrics (batch means, TRL names): rewards/chosen = β(logπ(w) − logπref(w)),
 * rewards/rejected, rewards/margins, rewards/accuracies (share with chosen reward > rejected),
 * logps/chosen, logps/rejected. Built inside a gradient function (tf.variableGrads tidies its
 * forward), tf.keep the metrics to read them afterwards.
 */
export function preferenceMetrics(l: PairLogps, beta: number): Record<string, tf.Scalar> {
  return tf.tidy(() => {
    const pc = l.policyChosen;
    const pr = l.policyRejected;
    const chosen = tf.mul(tf.sub(pc, l.refChosen), beta);
    const rejected = tf.mul(tf.sub(pr, l.refRejected), beta);
    return {
      'rewards/chosen': tf.mean(chosen) as tf.Scalar,
      'rewards/rejected': tf.mean(rejected) as tf.Scalar,
      'rewards/margins': tf.mean(tf.sub(chosen, rejected)) as tf.Scalar,
      'rewards/accuracies': tf.mean(tf.cast(tf.greater(chosen, rejected), 'float32')) as tf.Scalar,
      'logps/chosen': tf.mean(pc) as tf.Scalar,
      'logps/rejected': tf.mean(pr) as tf.Scalar,
    };
  });
}

/**
 * DPO's sigmoid loss per pair: −(1−ε)·log σ(βh) − ε·log σ(−βh), h the log-ratio margin.
 * Written with softplus so it stays finite for margins in the hundreds.
 */
export function dpoLoss(l: PairLogps, options: DpoOptions = {}): LossOutput {
  const beta = options.beta ?? 0.1;
  const eps = options.labelSmoothing ?? 0;
  if (!(beta > 0)) throw new Error(`dpoLoss: beta must be > 0, got ${beta}`);
  if (!(eps >= 0 && eps < 0.5)) throw new Error(`dpoLoss: labelSmoothing must be in [0, 0.5), got ${eps}`);
  const losses = tf.tidy(() => {
    const z = tf.mul(logRatioMargin(l), beta); // [B]
    // −log σ(z) = softplus(−z). (tf.logSigmoid's gradient reads its input after a tidy has freed it.)
    const main = tf.mul(tf.softplus(tf.neg(z)), 1 - eps);
    return (eps === 0 ? main : tf.add(main, tf.mul(tf.softplus(z), eps))) as tf.Tensor1D;
  });
  return { losses, metrics: preferenceMetrics(l, beta) };
}
