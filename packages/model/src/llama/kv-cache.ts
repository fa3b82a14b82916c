import { tf } from '@irpo/core';

/** What the shared API promises a cache to be. */
export interface KvCache {
  readonly batch: number;
  readonly length: number;
  select(rows: number[]): KvCache;
  dispose(): void;
}

/**
 * Keys and values per layer ([B, kvHeads, L, d], already rotated), the key mask [B, L]
 * (0 for left padding) and each row's next position [B] (real tokens seen so far).
 * Decode steps replace the tensors (tfjs tensors are immutable), disposing the old ones.
 */
export class LlamaKvCache implements KvCache {
  constructor(
    public keys: tf.Tensor4D[],
    public values: tf.Tensor4D[],
    public keyMask: tf.Tensor2D,
    public nextPositions: tf.Tensor1D,
    /** The most positions this cache may hold (prompt + maxNewTokens). */
    readonly capacity: number,
  ) {}

  get batch(): number {
    return this.keyMask.shape[0];
  }

  get length(): number {
    return this.keyMask.shape[1];
  }

  select(rows: number[]): LlamaKvCache {
    const idx = tf.tensor1d(rows, 'int32');
    const pick = <T extends tf.Tensor>(t: T): T => tf.gather(t, idx, 0);
    const next = new LlamaKvCache(
      this.keys.map(pick),
      this.values.map(pick),
      pick(this.keyMask),
      pick(this.nextPositions),
      this.capacity,
    );
    idx.dispose();
    this.dispose();
    return next;
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values, this.keyMask, this.nextPositions]);
    this.keys = [];
    this.values = [];
  }
}
