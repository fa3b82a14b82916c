import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../runtime.js';
import { tf } from '../index.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm/‖g‖ only when the norm exceeds it', async () => {
    // ‖(3, 4)‖ = 5: max 1 → (0.6, 0.8) (up to the 1e-6 guard); max 10 → unchanged.
    const g = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
    const clipped = clipByGlobalNorm(g, 1);
    expect(await clipped.norm.data()).toEqual(new Float32Array([5]));
    expect((await clipped.grads.a!.data())[0]).toBeCloseTo(0.6, 6);
    expect((await clipped.grads.b!.data())[0]).toBeCloseTo(0.8, 6);
    expect((await clipByGlobalNorm(g, 10).grads.b!.data())[0]).toBe(4);
  });
});
