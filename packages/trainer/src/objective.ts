import { tf } from '@irpo/core';

// PROVISIONAL: the loss arithmetic moves to @irpo/core's dpoNll/sequenceLogProbs after merge.

/** Sum over masked positions of log p(target): [B,T,V] logits, [B,T] targets and mask → [B]. */
export function sequenceLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const vocab = logits.shape[2];
    const logp = tf.logSoftmax(logits); // [B,T,V]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, vocab)), -1); // [B,T]
    return tf.sum(tf.mul(picked, mask), -1) as tf.Tensor1D; // [B]
  });
}

export interface PreferenceLossInput {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  refChosen: tf.Tensor1D;
  refRejected: tf.Tensor1D;
  chosenLengths: tf.Tensor1D;
  beta: number;
  alpha: number;
  labelSmoothing: number;
  kind: 'dpo-nll' | 'dpo' | 'ipo';
}

/** Per-example DPO (+ alpha · length-normalised NLL of the winner) and its parts. */
export function preferenceLoss(i: PreferenceLossInput): { loss: tf.Tensor1D; dpo: tf.Tensor1D; nll: tf.Tensor1D } {
  // No tf.tidy here: it runs inside a gradient scope, and tidy would dispose tensors that
  // logSigmoid's custom gradient saved for the backward pass.
  {
    const logits = tf.sub(tf.sub(i.policyChosen, i.policyRejected), tf.sub(i.refChosen, i.refRejected)); // [B]
    let dpo: tf.Tensor1D;
    if (i.kind === 'ipo') {
      dpo = tf.square(tf.sub(logits, 1 / (2 * i.beta))) as tf.Tensor1D;
    } else {
      const z = tf.mul(logits, i.beta);
      dpo = tf.sub(tf.mul(logSigmoid(z), -(1 - i.labelSmoothing)), tf.mul(logSigmoid(tf.neg(z)), i.labelSmoothing)) as tf.Tensor1D;
    }
    const nll = tf.div(tf.neg(i.policyChosen), i.chosenLengths) as tf.Tensor1D;
    const alpha = i.kind === 'dpo' ? 0 : i.alpha;
    const loss = alpha === 0 ? dpo : (tf.add(dpo, tf.mul(nll, alpha)) as tf.Tensor1D);
    return { loss: loss as tf.Tensor1D, dpo: dpo as tf.Tensor1D, nll };
  }
}

/**
 * log σ(x) = -softplus(-x). tf.logSigmoid's custom gradient reads a saved input that is already
 * disposed when x is an intermediate inside variableGrads (tfjs 4.22), so it cannot be used here.
 */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(tf.softplus(tf.neg(x)));
}
