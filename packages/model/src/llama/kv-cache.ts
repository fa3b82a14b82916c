import type { tf } from '@irpo/core';
import { attentionKernels, wasmMemory, type AttentionKernels } from './attention-simd.js';

/** What the shared API promises a cache to be. */
export interface KvCache {
  readonly batch: number;
  readonly length: number;
  select(rows: number[]): KvCache;
  dispose(): void;
}

/**
 * The decode cache on the host: per layer keys and values [B, kvHeads, capacity, d] (keys
 * already rotated), preallocated in one WebAssembly memory that the SIMD attention kernels read,
 * and written in place one column per decode step; the key mask [B, capacity] (0 for left
 * padding and unwritten columns) and each row's next position [B] (real tokens seen so far).
 * After the per-layer blocks the memory holds a scratch area: a query (d floats), scores and
 * probabilities (capacity floats), an output (d floats).
 */
export class LlamaKvCache implements KvCache {
  keys: Float32Array[] = [];
  values: Float32Array[] = [];
  keyMask: Uint8Array;
  readonly nextPositions: Int32Array;
  length = 0;
  /** Byte offsets of the scratch query, scores and output in `memory`. */
  scratch: { q: number; scores: number; out: number };
  memory: Float32Array;
  kernels: AttentionKernels;

  private constructor(
    public batch: number,
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
    public capacity: number,
  ) {
    const block = batch * kvHeads * capacity * headDim;
    const floats = 2 * layers * block + 2 * headDim + capacity;
    const memory = wasmMemory(floats * 4);
    this.memory = new Float32Array(memory.buffer);
    for (let l = 0; l < layers; l++) {
      this.keys.push(this.memory.subarray(l * block, (l + 1) * block));
      this.values.push(this.memory.subarray((layers + l) * block, (layers + l + 1) * block));
    }
    const s = 2 * layers * block * 4;
    this.scratch = { q: s, out: s + headDim * 4, scores: s + 2 * headDim * 4 };
    this.kernels = attentionKernels(memory);
    this.keyMask = new Uint8Array(batch * capacity);
    this.nextPositions = new Int32Array(batch);
  }

  /** From prefill's tensors: keys/values [B, kvHeads, L, d], mask [B, L], next positions [B]. */
  static fromTensors(keys: tf.Tensor4D[], values: tf.Tensor4D[], mask: tf.Tensor2D, next: tf.Tensor1D, capacity: number): LlamaKvCache {
    const [b, g, l, d] = keys[0]!.shape;
    if (d % 4 !== 0) throw new Error(`KV cache: head size ${d} is not a multiple of 4`);
    const cache = new LlamaKvCache(b, keys.length, g, d, Math.max(capacity, l));
    const cap = cache.capacity;
    const fill = (dst: Float32Array, t: tf.Tensor4D): void => {
      const src = t.dataSync() as Float32Array;
      for (let e = 0; e < b * g; e++) dst.set(src.subarray(e * l * d, (e + 1) * l * d), e * cap * d);
    };
    keys.forEach((t, i) => fill(cache.keys[i]!, t));
    values.forEach((t, i) => fill(cache.values[i]!, t));
    const m = mask.dataSync();
    for (let r = 0; r < b; r++) for (let t = 0; t < l; t++) cache.keyMask[r * cap + t] = m[r * l + t]! > 0 ? 1 : 0;
    cache.nextPositions.set(next.dataSync());
    cache.length = l;
    return cache;
  }

  /** A cache of the given rows (repeats allowed) and capacity, holding this one's columns. */
  private copy(rows: number[], capacity: number): LlamaKvCache {
    const out = new LlamaKvCache(rows.length, this.layers, this.kvHeads, this.headDim, capacity);
    const { kvHeads: g, headDim: d, length: len } = this;
    const copyRows = (dst: Float32Array, src: Float32Array): void => {
      rows.forEach((r, i) => {
        for (let h = 0; h < g; h++) {
          const from = (r * g + h) * this.capacity * d;
          dst.set(src.subarray(from, from + len * d), (i * g + h) * capacity * d);
        }
      });
    };
    for (let l = 0; l < this.layers; l++) {
      copyRows(out.keys[l]!, this.keys[l]!);
      copyRows(out.values[l]!, this.values[l]!);
    }
    rows.forEach((r, i) => {
      out.keyMask.set(this.keyMask.subarray(r * this.capacity, r * this.capacity + len), i * capacity);
      out.nextPositions[i] = this.nextPositions[r]!;
    });
    out.length = len;
    return out;
  }

  /** Makes room for one more column, in place: twice the capacity when full. */
  reserve(): void {
    if (this.length < this.capacity) return;
    const grown = this.copy(
      Array.from({ length: this.batch }, (_, r) => r),
      this.capacity * 2,
    );
    this.keys = grown.keys;
    this.values = grown.values;
    this.keyMask = grown.keyMask;
    this.memory = grown.memory;
    this.kernels = grown.kernels;
    this.scratch = grown.scratch;
    this.capacity = grown.capacity;
  }

  /**
   * The chosen rows (repeats allowed: gather semantics), in that order; this cache is disposed.
   * The usual case, rows leaving the batch (increasing rows, no repeats), compacts this cache in
   * place and returns it: each kept row moves down over a finished one, so no new memory.
   */
  select(rows: number[]): LlamaKvCache {
    if (!rows.every((r, i) => r >= i && r < this.batch && (i === 0 || r > rows[i - 1]!))) {
      const next = this.copy(rows, this.capacity);
      this.dispose();
      return next;
    }
    const { kvHeads: g, headDim: d, length: len, capacity: cap } = this;
    for (const block of [...this.keys, ...this.values]) {
      rows.forEach((r, i) => {
        if (r === i) return;
        // rows ascend and r > i: the source lies after the target, and later sources are untouched
        const span = g * cap * d;
        for (let h = 0; h < g; h++) block.copyWithin(i * span + h * cap * d, r * span + h * cap * d, r * span + h * cap * d + len * d);
      });
    }
    rows.forEach((r, i) => {
      if (r === i) return;
      this.keyMask.copyWithin(i * cap, r * cap, r * cap + cap);
      this.nextPositions[i] = this.nextPositions[r]!;
    });
    this.batch = rows.length;
    return this;
  }

  dispose(): void {
    this.keys = [];
    this.values = [];
  }
}
