/** Columns the cache grows by: a decode step copies nothing until its capacity is used up. */
export const CACHE_CHUNK = 64;

/**
 * The decode cache of OnnxLlama on the host, in the layout the decode graph reads: per layer keys
 * and values [B, kvHeads, capacity, d] (keys rotated), of which the first `length` columns are
 * filled; the key mask [B, capacity] (0 for left padding and unfilled columns) and each row's next
 * position [B]. The graph reads the whole capacity (masked columns weigh exactly 0) and returns only
 * the new columns, which `append` writes in place; capacity grows by CACHE_CHUNK columns at a time,
 * so a step does not copy the cache.
 */
export class OnnxKvCache {
  keys: Float32Array[];
  values: Float32Array[];
  keyMask: Float32Array;
  nextPositions: Float32Array;
  /** Filled columns (the same for every row: left padding is masked, not skipped). */
  length = 0;

  private constructor(
    public batch: number,
    public capacity: number,
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
  ) {
    const size = batch * kvHeads * capacity * headDim;
    this.keys = Array.from({ length: layers }, () => new Float32Array(size));
    this.values = Array.from({ length: layers }, () => new Float32Array(size));
    this.keyMask = new Float32Array(batch * capacity);
    this.nextPositions = new Float32Array(batch);
  }

  /** An empty cache with room for `columns` (rounded up to CACHE_CHUNK). */
  static create(batch: number, columns: number, layers: number, kvHeads: number, headDim: number): OnnxKvCache {
    return new OnnxKvCache(batch, roundUp(Math.max(1, columns)), layers, kvHeads, headDim);
  }

  /** The past of a prefill: one masked column (the graph reads at least one). */
  static none(batch: number, layers: number, kvHeads: number, headDim: number): OnnxKvCache {
    return new OnnxKvCache(batch, 1, layers, kvHeads, headDim);
  }

  /**
   * Writes a call's new columns at `length`, growing the capacity first when they do not fit:
   * keys and values per layer [B, kvHeads, S, d] and the mask of those columns [B, S].
   */
  append(keys: Float32Array[], values: Float32Array[], mask: ArrayLike<number>, s: number): void {
    if (this.length + s > this.capacity) this.resize(roundUp(this.length + s));
    const { batch, kvHeads, headDim: d, capacity: cap, length: at } = this;
    for (let l = 0; l < this.layers; l++) {
      const [k, v, kc, vc] = [keys[l]!, values[l]!, this.keys[l]!, this.values[l]!];
      for (let row = 0; row < batch * kvHeads; row++) {
        const src = row * s * d;
        const dst = (row * cap + at) * d;
        kc.set(k.subarray(src, src + s * d), dst);
        vc.set(v.subarray(src, src + s * d), dst);
      }
    }
    for (let b = 0; b < batch; b++) for (let i = 0; i < s; i++) this.keyMask[b * cap + at + i] = mask[b * s + i]!;
    this.length += s;
  }

  /**
   * The chosen rows (repeats allowed: gather semantics), in that order. The usual case, rows
   * leaving the batch (ascending, no repeats), compacts this cache in place and returns it: each
   * kept row's filled columns move down over a finished row, and nothing is allocated (the arrays
   * keep their size; the graph reads the first `batch` rows). Otherwise a new cache.
   */
  select(rows: number[]): OnnxKvCache {
    for (const r of rows) if (!(r >= 0 && r < this.batch)) throw new RangeError(`select: row ${r} of a cache of ${this.batch}`);
    const { kvHeads, headDim: d, capacity: cap, length: len } = this;
    if (rows.every((r, i) => i === 0 || r > rows[i - 1]!)) {
      rows.forEach((r, i) => {
        if (r === i) return; // ascending: r ≥ i, and a source is never a later row's target
        for (const block of [...this.keys, ...this.values])
          for (let h = 0; h < kvHeads; h++) {
            const from = (r * kvHeads + h) * cap * d;
            block.copyWithin((i * kvHeads + h) * cap * d, from, from + len * d);
          }
        this.keyMask.copyWithin(i * cap, r * cap, (r + 1) * cap);
        this.nextPositions[i] = this.nextPositions[r]!;
      });
      this.batch = rows.length;
      return this;
    }
    // A new cache: only the filled columns are copied (after a prefill, about half the capacity).
    const out = new OnnxKvCache(rows.length, cap, this.layers, kvHeads, d);
    out.length = len;
    for (let l = 0; l < this.layers; l++)
      for (const [src, dst] of [
        [this.keys[l]!, out.keys[l]!],
        [this.values[l]!, out.values[l]!],
      ] as const)
        rows.forEach((r, i) => {
          for (let h = 0; h < kvHeads; h++) {
            const from = (r * kvHeads + h) * cap * d;
            dst.set(src.subarray(from, from + len * d), (i * kvHeads + h) * cap * d);
          }
        });
    rows.forEach((r, i) => {
      out.keyMask.set(this.keyMask.subarray(r * cap, (r + 1) * cap), i * cap);
      out.nextPositions[i] = this.nextPositions[r]!;
    });
    return out;
  }

  /** Layer l's keys and values as the graph reads them: the first `batch` rows, [B, kvHeads, capacity, d]. */
  pastOf(l: number): { keys: Float32Array; values: Float32Array } {
    const n = this.batch * this.kvHeads * this.capacity * this.headDim;
    return { keys: this.keys[l]!.subarray(0, n), values: this.values[l]!.subarray(0, n) };
  }

  dispose(): void {
    this.keys = [];
    this.values = [];
  }

  private resize(capacity: number): void {
    const old = this.capacity;
    const grow = (a: Float32Array, rows: number, unit: number): Float32Array => {
      const out = new Float32Array(rows * capacity * unit);
      for (let r = 0; r < rows; r++) out.set(a.subarray(r * old * unit, (r * old + this.length) * unit), r * capacity * unit);
      return out;
    };
    const heads = this.batch * this.kvHeads;
    this.keys = this.keys.map((a) => grow(a, heads, this.headDim));
    this.values = this.values.map((a) => grow(a, heads, this.headDim));
    this.keyMask = grow(this.keyMask, this.batch, 1);
    this.nextPositions = this.nextPositions.slice(0, this.batch);
    this.capacity = capacity;
  }
}

function roundUp(columns: number): number {
  return Math.ceil(columns / CACHE_CHUNK) * CACHE_CHUNK;
}
