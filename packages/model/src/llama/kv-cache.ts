import type { tf } from '@irpo/core';

/** What the shared API promises a cache to be. */
export interface KvCache {
  readonly batch: number;
  readonly length: number;
  select(rows: number[]): KvCache;
  dispose(): void;
}

/**
 * The decode cache on the host: per layer keys and values [B, kvHeads, capacity, d] (keys
 * already rotated) in preallocated Float32Arrays, written in place one column per decode step;
 * the key mask [B, capacity] (0 for left padding and unwritten columns) and each row's next
 * position [B] (real tokens seen so far). Decoding reads it straight from these arrays, so a
 * step neither concatenates nor launches kernels for attention.
 */
export class LlamaKvCache implements KvCache {
  private constructor(
    public keys: Float32Array[],
    public values: Float32Array[],
    public keyMask: Uint8Array,
    public nextPositions: Int32Array,
    public length: number,
    public capacity: number,
    readonly kvHeads: number,
    readonly headDim: number,
  ) {}

  /** From prefill's tensors: keys/values [B, kvHeads, L, d], mask [B, L], next positions [B]. */
  static fromTensors(keys: tf.Tensor4D[], values: tf.Tensor4D[], mask: tf.Tensor2D, next: tf.Tensor1D, capacity: number): LlamaKvCache {
    const [b, g, l, d] = keys[0]!.shape;
    const cap = Math.max(capacity, l);
    const widen = (t: tf.Tensor4D): Float32Array => {
      const src = t.dataSync() as Float32Array;
      const out = new Float32Array(b * g * cap * d);
      for (let e = 0; e < b * g; e++) out.set(src.subarray(e * l * d, (e + 1) * l * d), e * cap * d);
      return out;
    };
    const m = mask.dataSync();
    const keyMask = new Uint8Array(b * cap);
    for (let r = 0; r < b; r++) for (let t = 0; t < l; t++) keyMask[r * cap + t] = m[r * l + t]! > 0 ? 1 : 0;
    return new LlamaKvCache(keys.map(widen), values.map(widen), keyMask, Int32Array.from(next.dataSync()), l, cap, g, d);
  }

  get batch(): number {
    return this.nextPositions.length;
  }

  /** Makes room for one more column (doubling the capacity when full). */
  reserve(): void {
    if (this.length < this.capacity) return;
    const cap = Math.max(1, this.capacity * 2);
    const rowsOf = (src: Float32Array, width: number, n: number): Float32Array => {
      const out = new Float32Array(n * cap * width);
      for (let e = 0; e < n; e++) out.set(src.subarray(e * this.capacity * width, e * this.capacity * width + this.length * width), e * cap * width);
      return out;
    };
    const n = this.batch * this.kvHeads;
    this.keys = this.keys.map((k) => rowsOf(k, this.headDim, n));
    this.values = this.values.map((v) => rowsOf(v, this.headDim, n));
    const mask = new Uint8Array(this.batch * cap);
    for (let r = 0; r < this.batch; r++) mask.set(this.keyMask.subarray(r * this.capacity, r * this.capacity + this.length), r * cap);
    this.keyMask = mask;
    this.capacity = cap;
  }

  /** The chosen rows (repeats allowed: gather semantics), in that order; this cache is disposed. */
  select(rows: number[]): LlamaKvCache {
    const per = this.kvHeads * this.capacity * this.headDim;
    const pick = (src: Float32Array): Float32Array => {
      const out = new Float32Array(rows.length * per);
      rows.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
      return out;
    };
    const mask = new Uint8Array(rows.length * this.capacity);
    rows.forEach((r, i) => mask.set(this.keyMask.subarray(r * this.capacity, (r + 1) * this.capacity), i * this.capacity));
    const next = new LlamaKvCache(
      this.keys.map(pick),
      this.values.map(pick),
      mask,
      Int32Array.from(rows, (r) => this.nextPositions[r]!),
      this.length,
      this.capacity,
      this.kvHeads,
      this.headDim,
    );
    this.dispose();
    return next;
  }

  dispose(): void {
    this.keys = [];
    this.values = [];
  }
}
