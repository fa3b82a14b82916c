import * as tf from '@tensorflow/tfjs-core';
import { onHostBackend } from './host-backend.js';
import { entriesOf, type NamedTensors } from './named-tensors.js';

/**
 * Sums gradients over micro-batches (so an effective batch need not fit in memory) and hands
 * back their mean. add() does not dispose what it is given. On the wasm and cpu backends the
 * sums are host Float32Arrays, so a micro-batch's gradients can be freed as soon as they are
 * added and the tensor heap never holds two model-sized sets of them (elsewhere, tensors).
 */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private hostSums = new Map<string, { values: Float32Array; shape: number[] }>();
  private n = 0;
  private readonly host: boolean;

  constructor(options: { host?: boolean } = {}) {
    this.host = options.host ?? onHostBackend();
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.n;
  }

  add(grads: NamedTensors): void {
    for (const [name, g] of entriesOf(grads)) {
      if (this.host) {
        const values = g.dataSync();
        const prev = this.hostSums.get(name);
        if (!prev) this.hostSums.set(name, { values: Float32Array.from(values), shape: g.shape });
        else for (let i = 0; i < values.length; i++) prev.values[i]! += values[i]!;
        continue;
      }
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
    for (const [name, { values, shape }] of this.hostSums) {
      const mean = new Float32Array(values.length);
      for (let i = 0; i < values.length; i++) mean[i] = values[i]! / this.n;
      out[name] = tf.tensor(mean, shape, 'float32');
    }
    return out;
  }

  /** Drops the sums (call after each optimiser step). */
  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.hostSums.clear();
    this.n = 0;
  }
}
