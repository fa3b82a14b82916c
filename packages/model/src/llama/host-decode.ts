import { tf } from '@irpo/core';
import type { LlamaKvCache } from './kv-cache.js';

/**
 * A float32 tensor's values without a copy where the backend allows it (wasm heap, cpu's typed
 * array), else a copy. A wasm view is only valid until the next tensor allocation.
 */
export function hostView(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as {
    typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array;
    data?: { get(id: unknown): { values?: unknown } | undefined };
  };
  if (typeof backend.typedArrayFromHeap === 'function') return backend.typedArrayFromHeap(t);
  const values = backend.data?.get(t.dataId)?.values;
  if (values instanceof Float32Array) return values;
  return t.dataSync() as Float32Array;
}

/** Reads a tensor's values into a fresh array and disposes it. */
export function take(t: tf.Tensor): Float32Array {
  const out = hostView(t).slice();
  t.dispose();
  return out;
}

/** out[r] = w · x[r] / sqrt(mean(x[r]²) + eps) for rows of width h. */
export function hostRmsNorm(x: Float32Array, weight: Float32Array, h: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += h) {
    let s = 0;
    for (let j = 0; j < h; j++) s += x[o + j]! * x[o + j]!;
    const inv = 1 / Math.sqrt(s / h + eps);
    for (let j = 0; j < h; j++) out[o + j] = x[o + j]! * inv * weight[j]!;
  }
  return out;
}

/** x += y in place. */
export function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i]! += y[i]!;
}

/** silu(gate)·up in place in gate. */
export function siluMulInPlace(gate: Float32Array, up: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    gate[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

/** cos and sin [B, d/2] of each row's position (float32 angles, as the tensor path computes them). */
export function ropeRows(invFreq: Float32Array, positions: Int32Array): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  positions.forEach((p, r) => {
    for (let j = 0; j < half; j++) {
      const a = Math.fround(p * invFreq[j]!);
      cos[r * half + j] = Math.cos(a);
      sin[r * half + j] = Math.sin(a);
    }
  });
  return { cos, sin };
}

/** Rotate-half RoPE of `heads` vectors of width d at src[off..] into dst[dOff..], row r's angles. */
function rope(src: Float32Array, off: number, dst: Float32Array, dOff: number, d: number, cos: Float32Array, sin: Float32Array, r: number, scale: number): void {
  const half = d / 2;
  const c0 = r * half;
  for (let j = 0; j < half; j++) {
    const x1 = src[off + j]!;
    const x2 = src[off + j + half]!;
    const c = cos[c0 + j]!;
    const s = sin[c0 + j]!;
    dst[dOff + j] = (x1 * c - x2 * s) * scale;
    dst[dOff + j + half] = (x2 * c + x1 * s) * scale;
  }
}

/**
 * One decode step of grouped-query attention for one layer, on the host: rotates q [B, nh·d]
 * and k [B, nkv·d], writes k and v into the cache at column `cache.length`, and returns the
 * attention output [B, nh·d] over the columns the mask allows (the new one included).
 * The caller advances cache.length and sets the new mask column after the last layer.
 */
export function hostAttention(
  cache: LlamaKvCache, layer: number, q: Float32Array, k: Float32Array, v: Float32Array,
  nh: number, cos: Float32Array, sin: Float32Array,
): Float32Array {
  const { kvHeads: nkv, headDim: d, capacity: cap, length: col, keyMask } = cache;
  const b = cache.batch;
  const rep = nh / nkv;
  const K = cache.keys[layer]!;
  const V = cache.values[layer]!;
  const out = new Float32Array(b * nh * d);
  const qr = new Float32Array(d);
  const acc = new Float32Array(d);
  const scores = new Float64Array(col + 1);
  const cols = new Int32Array(col + 1);
  const scale = 1 / Math.sqrt(d);
  const d4 = d - (d % 4);
  for (let r = 0; r < b; r++) {
    // The columns this row attends to: its real tokens (not left padding) and the new one.
    let n = 0;
    for (let t = 0; t < col; t++) if (keyMask[r * cap + t]) cols[n++] = t;
    cols[n++] = col;
    for (let g = 0; g < nkv; g++) {
      const base = (r * nkv + g) * cap * d;
      rope(k, (r * nkv + g) * d, K, base + col * d, d, cos, sin, r, 1);
      V.set(v.subarray((r * nkv + g) * d, (r * nkv + g + 1) * d), base + col * d);
      for (let h = g * rep; h < (g + 1) * rep; h++) {
        rope(q, (r * nh + h) * d, qr, 0, d, cos, sin, r, scale);
        let max = -Infinity;
        for (let i = 0; i < n; i++) {
          const kt = base + cols[i]! * d;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let j = 0;
          for (; j < d4; j += 4) {
            s0 += qr[j]! * K[kt + j]!;
            s1 += qr[j + 1]! * K[kt + j + 1]!;
            s2 += qr[j + 2]! * K[kt + j + 2]!;
            s3 += qr[j + 3]! * K[kt + j + 3]!;
          }
          for (; j < d; j++) s0 += qr[j]! * K[kt + j]!;
          const s = s0 + s1 + s2 + s3;
          scores[i] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const e = Math.exp(scores[i]! - max);
          scores[i] = e;
          sum += e;
        }
        acc.fill(0);
        for (let i = 0; i < n; i++) {
          const p = scores[i]! / sum;
          const vt = base + cols[i]! * d;
          for (let j = 0; j < d; j++) acc[j]! += p * V[vt + j]!;
        }
        out.set(acc, (r * nh + h) * d);
      }
    }
  }
  return out;
}
