import { UsageError } from '@irpo/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from './index.js';

afterAll(async () => {
  await initBackend('cpu');
});

describe('runtime', () => {
  it('registers gradients: d/dx sum(|x|) = sign(x)', async () => {
    await initBackend('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.abs(x)))(tf.tensor1d([-1.5, 2]));
    expect(Array.from(await g.data())).toEqual([-1, 1]);
  });

  it('without the native packages picks wasm and says why tensorflow was skipped', async () => {
    const saved = process.env.IRPO_BACKEND;
    delete process.env.IRPO_BACKEND;
    try {
      const choice = await initBackend();
      expect(choice.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(choice.reasons).toContain('@tensorflow/tfjs-node-gpu: not installed');
      expect(choice.reasons).toContain('@tensorflow/tfjs-node: not installed');
    } finally {
      if (saved !== undefined) process.env.IRPO_BACKEND = saved;
    }
  });

  it("'tensorflow' without the native package is a UsageError naming the fix", async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(UsageError);
    await expect(initBackend('tensorflow')).rejects.toThrow(/TFJS_NODE_BASE_URI/);
  });

  it('IRPO_BACKEND selects, and a bad value is a UsageError', async () => {
    const saved = process.env.IRPO_BACKEND;
    try {
      process.env.IRPO_BACKEND = 'cpu';
      expect((await initBackend()).reasons[0]).toBe('cpu: requested by IRPO_BACKEND');
      process.env.IRPO_BACKEND = 'gpu';
      await expect(initBackend()).rejects.toThrow(/IRPO_BACKEND: unknown backend 'gpu'/);
    } finally {
      if (saved === undefined) delete process.env.IRPO_BACKEND;
      else process.env.IRPO_BACKEND = saved;
    }
  });
});
