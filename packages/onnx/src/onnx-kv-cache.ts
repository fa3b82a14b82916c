/**
 * The decode cache of OnnxLlama on the host: per layer keys and values [B, kvHeads, L, d] (keys
 * rotated), as the decode graph returns them; the key mask [B, L] (0 for left padding) and each
 * row's next position [B]. Each decode step replaces the arrays with the graph's grown ones.
 */
export class OnnxKvCache {
  keys: Float32Array[];
  values: Float32Array[];
  keyMask: Float32Array;
  readonly nextPositions: Float32Array;

  private constructor(
    public batch: number,
    public length: number,
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
  ) {
    this.keys = Array.from({ length: layers }, () => new Float32Array(batch * kvHeads * length * headDim));
    this.values = Array.from({ length: layers }, () => new Float32Array(batch * kvHeads * length * headDim));
    this.keyMask = new Float32Array(batch * length);
    this.nextPositions = new Float32Array(batch);
  }

  /** A cache of no columns (the prefill's past). */
  static empty(batch: number, layers: number, kvHeads: number, headDim: number): OnnxKvCache {
    return new OnnxKvCache(batch, 0, layers, kvHeads, headDim);
  }

  /** The chosen rows (repeats allowed: gather semantics), in that order, as a new cache. */
  select(rows: number[]): OnnxKvCache {
    for (const r of rows) if (!(r >= 0 && r < this.batch)) throw new RangeError(`select: row ${r} of a cache of ${this.batch}`);
    const out = new OnnxKvCache(rows.length, this.length, this.layers, this.kvHeads, this.headDim);
    const rowSize = this.kvHeads * this.length * this.headDim;
    for (let l = 0; l < this.layers; l++) {
      rows.forEach((r, i) => {
        out.keys[l]!.set(this.keys[l]!.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
        out.values[l]!.set(this.values[l]!.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
      });
    }
    rows.forEach((r, i) => {
      out.keyMask.set(this.keyMask.subarray(r * this.length, (r + 1) * this.length), i * this.length);
      out.nextPositions[i] = this.nextPositions[r]!;
    });
    return out;
  }

  dispose(): void {
    this.keys = [];
    this.values = [];
  }
}
