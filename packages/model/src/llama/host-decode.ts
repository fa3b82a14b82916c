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

/** Reads a tensor's values into `into` (a fresh array without it) and disposes the tensor. */
export function take(t: tf.Tensor, into?: Float32Array): Float32Array {
  const view = hostView(t);
  const out = into ?? new Float32Array(view.length);
  out.set(view);
  t.dispose();
  return out;
}

/** Named host buffers reused across decode steps (fewer allocations, less garbage collection). */
export class ScratchBuffers {
  private readonly buffers = new Map<string, Float32Array>();

  get(name: string, length: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length !== length) {
      b = new Float32Array(length);
      this.buffers.set(name, b);
    }
    return b;
  }
}

/** out[r] = w · x[r] / sqrt(mean(x[r]²) + eps) for rows of width h. */
export function hostRmsNorm(
  x: Float32Array,
  weight: Float32Array,
  h: number,
  eps: number,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
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
function rope(
  src: Float32Array,
  off: number,
  dst: Float32Array,
  dOff: number,
  d: number,
  cos: Float32Array,
  sin: Float32Array,
  r: number,
  scale: number,
): void {
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
 * The scores and weighted sums run in the cache's SIMD kernels (attention-simd.ts).
 */
export function hostAttention(
  cache: LlamaKvCache,
  layer: number,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  nh: number,
  cos: Float32Array,
  sin: Float32Array,
  out: Float32Array = new Float32Array(cache.batch * nh * cache.headDim),
): Float32Array {
  const { kvHeads: nkv, headDim: d, capacity: cap, length: col, keyMask, memory, kernels, scratch } = cache;
  const b = cache.batch;
  const rep = nh / nkv;
  const K = cache.keys[layer]!;
  const V = cache.values[layer]!;
  // Byte offsets of this layer's blocks in the cache's memory.
  const kOff = K.byteOffset;
  const vOff = V.byteOffset;
  const qAt = scratch.q / 4;
  const sAt = scratch.scores / 4;
  const oAt = scratch.out / 4;
  const scale = 1 / Math.sqrt(d);
  const n = col + 1;
  for (let r = 0; r < b; r++) {
    const maskRow = r * cap;
    let padded = false;
    for (let t = 0; t < col && !padded; t++) padded = !keyMask[maskRow + t];
    for (let g = 0; g < nkv; g++) {
      const base = (r * nkv + g) * cap * d;
      rope(k, (r * nkv + g) * d, K, base + col * d, d, cos, sin, r, 1);
      for (let j = 0, src = (r * nkv + g) * d, dst = base + col * d; j < d; j++) V[dst + j] = v[src + j]!;
      for (let h = g * rep; h < (g + 1) * rep; h++) {
        rope(q, (r * nh + h) * d, memory, qAt, d, cos, sin, r, scale);
        kernels.dots(scratch.q, kOff + base * 4, n, d, scratch.scores);
        // Softmax over the columns this row may see (left padding gets probability 0); the
        // weighted sum takes unnormalised weights and the output is divided by their sum once.
        let max = -Infinity;
        let sum = 0;
        if (padded) {
          for (let t = 0; t < n; t++) if ((t === col || keyMask[maskRow + t]) && memory[sAt + t]! > max) max = memory[sAt + t]!;
          for (let t = 0; t < n; t++) {
            const e = t === col || keyMask[maskRow + t] ? Math.exp(memory[sAt + t]! - max) : 0;
            memory[sAt + t] = e;
            sum += e;
          }
        } else {
          for (let t = 0; t < n; t++) if (memory[sAt + t]! > max) max = memory[sAt + t]!;
          for (let t = 0; t < n; t++) {
            const e = Math.exp(memory[sAt + t]! - max);
            memory[sAt + t] = e;
            sum += e;
          }
        }
        kernels.mix(scratch.out, scratch.scores, vOff + base * 4, n, d);
        const inv = 1 / sum;
        const o = (r * nh + h) * d;
        for (let j = 0; j < d; j++) out[o + j] = memory[oAt + j]! * inv;
      }
    }
  }
  return out;
}
