import { tf } from '@irpo/core';

/**
 * RMSNorm over the last axis: w · x · r with r = 1 / sqrt(mean(x²) + eps), as one taped op with
 * its gradient written out: with g = dy · w and x̂ = x · r,
 *   dx = r · (g − x̂ · mean(g · x̂)),   dw = Σ_rows dy · x̂.
 * tfjs's chain rule through square, mean, rsqrt and two broadcast multiplies takes ~15 full-size
 * ops per norm and allocates a fresh ones([N, H]) in Mean's gradient; this takes 9 and keeps only
 * x and r [N, 1] for the backward pass.
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi] = args as [tf.Tensor2D, tf.Tensor1D];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xi), -1, true), eps)); // [N, 1]
    save([xi, wi, r]);
    return {
      value: tf.mul(tf.mul(xi, r), wi) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, rs] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
        const xhat = tf.mul(xs, rs); // [N, H]
        const g = tf.mul(dy, ws); // [N, H]
        const dx = tf.mul(tf.sub(g, tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), rs);
        const dw = tf.sum(tf.mul(dy, xhat), 0); // [H]
        return [dx, dw];
      },
    };
  });
  return op(x, weight) as tf.Tensor2D;
}
