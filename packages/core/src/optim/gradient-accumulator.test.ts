import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../runtime.js';
import { tf } from '../index.js';
import { GradientAccumulator } from './gradient-accumulator.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('GradientAccumulator', () => {
  for (const host of [true, false]) {
    it(`averages micro-batch gradients and frees them on reset (sums ${host ? 'in host arrays' : 'as tensors'})`, async () => {
      const acc = new GradientAccumulator({ host });
      const before = tf.memory().numTensors;
      const a = { w: tf.tensor1d([1, 2]) };
      const b = { w: tf.tensor1d([3, 6]) };
      acc.add(a);
      acc.add(b);
      expect(acc.count).toBe(2);
      const mean = acc.mean();
      expect(Array.from(await mean.w!.data())).toEqual([2, 4]); // (1+3)/2, (2+6)/2
      tf.dispose([mean, a, b]);
      acc.reset();
      expect(tf.memory().numTensors).toBe(before);
      expect(() => acc.mean()).toThrow(/no gradients/);
    });
  }
});
