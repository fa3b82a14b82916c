import type * as tf from '@tensorflow/tfjs-core';
import type { KernelFn, WasmBackend } from './wasm-util.js';

/**
 * Transposed copies of right operands, by the source's data id. tfjs data never changes under
 * an id (a variable's assign gives it a new one), so a copy stays valid while its source lives;
 * keeping it also keeps its id, which lets XNNPACK reuse the weights it packed for that id. For
 * x·Wᵀ with W a model weight this turns transpose + repack + operator set-up on every call into
 * a lookup: decode's [32,128]·[344,128]ᵀ went from 332 to 83 µs.
 */
export class TransposedCache {
  private readonly copies = new Map<object, tf.TensorInfo>();

  /** Most copies kept; past it, dead ones are swept and, if still full, the oldest dropped. */
  constructor(private readonly limit = 256) {}

  get size(): number {
    return this.copies.size;
  }

  /** The [batch, cols, rows] transpose of `src3d` ([batch, rows, cols]), a view of `src`'s data. */
  get(
    backend: WasmBackend & { dataIdMap: { has(id: unknown): boolean } },
    src: tf.TensorInfo,
    src3d: tf.TensorInfo,
    transpose: KernelFn,
  ): tf.TensorInfo {
    const key = src.dataId as object;
    const hit = this.copies.get(key);
    if (hit) return hit;
    const copy = transpose({ inputs: { x: src3d }, backend, attrs: { perm: [0, 2, 1] } });
    this.sweep(backend);
    this.copies.set(key, copy);
    return copy;
  }

  /** Frees the copies whose source has been disposed. */
  sweep(backend: WasmBackend & { dataIdMap: { has(id: unknown): boolean } }): void {
    for (const [key, copy] of this.copies) {
      if (!backend.dataIdMap.has(key)) {
        backend.disposeData(copy.dataId);
        this.copies.delete(key);
      }
    }
    while (this.copies.size >= this.limit) {
      const [key, copy] = this.copies.entries().next().value as [object, tf.TensorInfo];
      backend.disposeData(copy.dataId);
      this.copies.delete(key);
    }
  }

  /** Frees every copy (when the kernel is swapped out). */
  clear(backend: WasmBackend): void {
    for (const copy of this.copies.values()) backend.disposeData(copy.dataId);
    this.copies.clear();
  }
}
