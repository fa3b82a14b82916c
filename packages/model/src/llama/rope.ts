import { tf } from '@irpo/core';
import type { ModelSpec } from '@irpo/contracts';
import { headDimOf } from '../config/hf-config.js';

/**
 * Rotary inverse frequencies θ^(-2i/d), i < d/2, with Llama 3 scaling when the spec has it:
 * long wavelengths are divided by `factor`, short ones kept, the band between interpolated.
 */
export function ropeInvFreq(spec: ModelSpec): Float32Array {
  const d = headDimOf(spec);
  const out = new Float32Array(d / 2);
  const rs = spec.ropeScaling;
  for (let i = 0; i < d / 2; i++) {
    let f = 1 / Math.pow(spec.ropeTheta, (2 * i) / d);
    if (rs) {
      const lowWavelen = rs.originalMaxPositions / rs.lowFreqFactor;
      const highWavelen = rs.originalMaxPositions / rs.highFreqFactor;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) f = f / rs.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (rs.originalMaxPositions / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
        f = (1 - smooth) * (f / rs.factor) + smooth * f;
      }
    }
    out[i] = f;
  }
  return out;
}

/**
 * cos and sin tables for positions [B,T] (float32) in Hugging Face's rotate-half layout:
 * angle j and j + d/2 share frequency j. Shapes [B,T,1,d] broadcast over heads.
 */
export function ropeTables(invFreq: Float32Array, positions: tf.Tensor2D): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  return tf.tidy(() => {
    const [b, t] = positions.shape;
    const half = invFreq.length;
    const freqs = tf.mul(tf.reshape(positions, [b, t, 1]), tf.tensor1d(invFreq)); // [B, T, d/2]
    const angles = tf.reshape(tf.concat([freqs, freqs], 2), [b, t, 1, 2 * half]); // [B, T, 1, d]
    return { cos: tf.cos(angles) as tf.Tensor4D, sin: tf.sin(angles) as tf.Tensor4D };
  });
}

const rotations = new Map<number, Float32Array>();

/** The [d,d] matrix R with x·R = rotate_half(x) = [-x₂, x₁]. */
function rotateHalfMatrix(d: number): Float32Array {
  let r = rotations.get(d);
  if (!r) {
    r = new Float32Array(d * d);
    const half = d / 2;
    for (let j = 0; j < half; j++) r[(j + half) * d + j] = -1; // out j ← -x[j + d/2]
    for (let j = half; j < d; j++) r[(j - half) * d + j] = 1; // out j ← x[j - d/2]
    rotations.set(d, r);
  }
  return r;
}

/**
 * x·cos + rotate_half(x)·sin; x is [B,T,heads,d]. rotate_half is a [d,d] signed-permutation
 * matmul: on the cpu backend SplitV/Reverse (and their gradients) cost several times more.
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const [b, t, h, d] = x.shape;
  const rot = tf.tensor2d(rotateHalfMatrix(d), [d, d]); // [d, d]
  const rotated = tf.reshape(tf.matMul(tf.reshape(x, [b * t * h, d]), rot), [b, t, h, d]); // [B, T, heads, d]
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}
