import * as tf from '@tensorflow/tfjs-core';

/**
 * Per-sequence log-probability: the sum over positions with mask = 1 of log p(target | logits).
 * The caller aligns them (logits at t predict targets at t, i.e. shifted by one from the ids).
 *
 * logits [B,T,V] float32, targets [B,T] int32, mask [B,T] (1 = response token, 0 = prompt/pad)
 * → [B] float32. Differentiable w.r.t. logits.
 *
 * The per-position log-probs are fused (positionLogProbs): no [B,T,V] log-softmax is kept.
 */
export function sequenceLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const [B, T, V] = logits.shape;
  if (targets.shape[0] !== B || targets.shape[1] !== T) {
    throw new Error(`sequenceLogProbs: targets shape [${targets.shape}] does not match logits [${logits.shape}]`);
  }
  if (mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`sequenceLogProbs: mask shape [${mask.shape}] does not match logits [${logits.shape}]`);
  }
  return tf.tidy(() => {
    const logp = positionLogProbs(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.reshape(targets, [B * T]) as tf.Tensor1D); // [B*T]
    return tf.sum(tf.mul(tf.reshape(logp, [B, T]), tf.cast(mask, 'float32')), -1) as tf.Tensor1D; // [B]
  });
}

/**
 * The same sum from logits at the response positions only: logits [N,V] of N positions,
 * targets [N] int32, rows [N] int32 (the sequence each position belongs to) → [numRows]. A model
 * that computes logits only where the loss looks (LlamaModel.forwardAt) skips the head and the
 * softmax over every prompt and padding position: the largest tensors of a training step.
 */
export function selectedLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D, rows: tf.Tensor1D, numRows: number): tf.Tensor1D {
  const [N] = logits.shape;
  if (targets.shape[0] !== N || rows.shape[0] !== N) {
    throw new Error(
      `selectedLogProbs: targets [${targets.shape}] and rows [${rows.shape}] must have the ${N} positions of logits [${logits.shape}]`,
    );
  }
  return tf.tidy(() => tf.unsortedSegmentSum(positionLogProbs(logits, targets), tf.cast(rows, 'int32'), numRows) as tf.Tensor1D);
}

/**
 * log p(target | logits) per position: logits [N,V], targets [N] → [N]. Fused: the forward keeps
 * only the per-position max and Σexp [N,1]; the gradient dy·(onehot(target) − softmax) rebuilds
 * softmax once from them, so the [N,V] log-softmax is never materialised (the stock composition
 * holds it for the forward and again for the gather's gradient).
 */
function positionLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logitsIn = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    // Created inside the forward's scope: save() keeps clones for the backward pass only while
    // a gradient tape records, so nothing outlives the call otherwise.
    const targetsI = tf.cast(targets, 'int32'); // [N]
    // Keep max and Σexp(x − max) apart rather than lse = max + log Σ: at logits near ±100 the sum
    // lse is only good to ~1e-5 in float32, which ruins 1 − p for a confident target.
    const max = tf.max(logitsIn, -1, true); // [N,1]
    const sumExp = tf.sum(tf.exp(tf.sub(logitsIn, max)), -1, true); // [N,1]
    const picked = pickTargets(logitsIn, targetsI); // [N]
    const value = tf.sub(tf.sub(picked, tf.reshape(max, [N])), tf.log(tf.reshape(sumExp, [N]))); // [N]
    save([logitsIn, max, sumExp, targetsI]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, maxS, sumS, targetsS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const softmax = tf.div(tf.exp(tf.sub(xs, maxS)), sumS); // [N,V], the only [N,V] temporaries
        // oneHot then cast: wasm's OneHot writes int32 bits whatever dtype it is asked for.
        const onehot = tf.cast(tf.oneHot(targetsS, V), 'float32'); // [N,V]
        return tf.mul(tf.sub(onehot, softmax), tf.reshape(dy, [N, 1]));
      },
    };
  });
  return fused(logits) as tf.Tensor1D;
}

/** logits[n, targets[n]] → [N], by a gather on the flattened logits. */
function pickTargets(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  return tf.tidy(() => {
    const flatIdx = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets); // [N]
    return tf.gather(tf.reshape(logits, [N * V]), flatIdx) as tf.Tensor1D;
  });
}
