import * as tf from '@tensorflow/tfjs-core';

/**
 * Per-sequence log-probability: the sum over positions with mask = 1 of log p(target | logits).
 * The caller aligns them (logits at t predict targets at t, i.e. shifted by one from the ids).
 *
 * logits [B,T,V] float32, targets [B,T] int32, mask [B,T] (1 = response token, 0 = prompt/pad)
 * → [B] float32. Differentiable w.r.t. logits.
 *
 * Fused: the forward keeps only the per-position max and Σexp [B,T,1]; the gradient
 * mask·dy·(onehot(target) − softmax) rebuilds softmax once from it, so the [B,T,V] log-softmax
 * is never materialised (the stock composition holds it for the forward and again for the gather's
 * gradient, and needs UnsortedSegmentSum for the latter).
 */
export function sequenceLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const [B, T, V] = logits.shape;
  if (targets.shape[0] !== B || targets.shape[1] !== T) {
    throw new Error(`sequenceLogProbs: targets shape [${targets.shape}] does not match logits [${logits.shape}]`);
  }
  if (mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`sequenceLogProbs: mask shape [${mask.shape}] does not match logits [${logits.shape}]`);
  }
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logitsIn = args[0] as tf.Tensor3D;
    const save = args[1] as tf.GradSaveFunc;
    // Created inside the forward's scope: save() keeps clones for the backward pass only while
    // a gradient tape records, so nothing outlives the call otherwise.
    const maskF = tf.cast(mask, 'float32'); // [B,T]
    const targetsI = tf.cast(targets, 'int32'); // [B,T]
    // Keep max and Σexp(x − max) apart rather than lse = max + log Σ: at logits near ±100 the sum
    // lse is only good to ~1e-5 in float32, which ruins 1 − p for a confident target.
    const max = tf.max(logitsIn, -1, true); // [B,T,1]
    const sumExp = tf.sum(tf.exp(tf.sub(logitsIn, max)), -1, true); // [B,T,1]
    const picked = pickTargets(logitsIn, targetsI); // [B,T]
    const logp = tf.sub(tf.sub(picked, tf.reshape(max, [B, T])), tf.log(tf.reshape(sumExp, [B, T]))); // [B,T]
    const value = tf.sum(tf.mul(logp, maskF), -1); // [B]
    save([logitsIn, max, sumExp, maskF, targetsI]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, maxS, sumS, maskS, targetsS] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
        const w = tf.expandDims(tf.mul(maskS, tf.reshape(dy, [B, 1])), -1); // [B,T,1]
        const softmax = tf.div(tf.exp(tf.sub(xs, maxS)), sumS); // [B,T,V], the only [B,T,V] temporaries
        // oneHot then cast: wasm's OneHot writes int32 bits whatever dtype it is asked for.
        const onehot = tf.cast(tf.oneHot(targetsS, V), 'float32'); // [B,T,V]
        return tf.mul(tf.sub(onehot, softmax), w);
      },
    };
  });
  return fused(logits) as tf.Tensor1D;
}

/** logits[b, t, targets[b,t]] → [B,T], by a gather on the flattened logits. */
function pickTargets(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.tidy(() => {
    const rowStart = tf.mul(tf.range(0, B * T, 1, 'int32'), tf.scalar(V, 'int32')); // [B*T]
    const flatIdx = tf.add(rowStart, tf.reshape(targets, [B * T])); // [B*T]
    return tf.reshape(tf.gather(tf.reshape(logits, [B * T * V]), flatIdx), [B, T]) as tf.Tensor2D;
  });
}
