import * as tf from '@tensorflow/tfjs-core';
import { entriesOf, type NamedTensors } from './named-tensors.js';

/**
 * Sums gradients over micro-batches (so an effective batch need not fit in memory) and hands
 * back their mean. Holds one tensor per name; add() does not dispose what it is given.
 */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private n = 0;

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.n;
  }

  add(grads: NamedTensors): void {
    for (const [name, g] of entriesOf(grads)) {
      const prev = this.sums.get(name);
      this.sums.set(name, prev ? tf.tidy(() => tf.add(prev, g)) : tf.clone(g));
      prev?.dispose();
    }
    this.n += 1;
  }

  /** The mean over the micro-batches added, as new tensors the caller disposes. */
  mean(): Record<string, tf.Tensor> {
    if (this.n === 0) throw new Error('GradientAccumulator.mean: no gradients added');
    const out: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.sums) out[name] = tf.tidy(() => tf.div(s, this.n));
    return out;
  }

  /** Drops the sums (call after each optimiser step). */
  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.n = 0;
  }
}
