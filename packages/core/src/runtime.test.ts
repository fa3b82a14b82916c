import { describe, expect, it } from 'vitest';
import { initBackend, tf } from './index.js';

describe('runtime', () => {
  it('registers gradients: d/dx sum(|x|) = sign(x)', async () => {
    await initBackend('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.abs(x)))(tf.tensor1d([-1.5, 2]));
    expect(Array.from(await g.data())).toEqual([-1, 1]);
  });
});
