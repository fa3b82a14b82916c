import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../test/close.js';
import { coreLosses } from '../../test/fixtures.js';
import { initBackend } from '../runtime.js';
import { tf } from '../index.js';
import { selectedLogProbs, sequenceLogProbs } from './sequence-log-probs.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Deterministic pseudo-random values (same on both backends). */
function rand(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = (s / 2147483648) * 2 - 1;
  }
  return tf.tensor(v, shape);
}

/** f's outputs on the cpu and on the wasm backend (inputs re-created on each) agree within tol. */
async function expectSame(f: () => tf.Tensor[], tol = 1e-5): Promise<void> {
  const run = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    const outs = tf.tidy(f);
    const values = await Promise.all(outs.map(async (t) => Array.from(await t.data())));
    tf.dispose(outs);
    return values;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  await initBackend('cpu');
  cpu.forEach((c, i) => expectClose(wasm[i]!, c, tol, `output ${i}`));
}

describe('sequenceLogProbs', () => {
  it('uniform logits: each response token costs log V (hand-derived)', async () => {
    // All-zero logits over V = 4 give p = 1/4 everywhere, so a sequence with n real positions has
    // log-prob −n·log 4: rows with 3 and 1 real positions → −3·ln4 = −4.158883, −ln4 = −1.386294.
    // d/dlogits of Σ logps = mask·(onehot(target) − 1/4).
    const logits = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const targets = tf.tensor2d(
      [
        [0, 1, 2],
        [3, 3, 3],
      ],
      undefined,
      'int32',
    );
    const mask = tf.tensor2d([
      [1, 1, 1],
      [1, 0, 0],
    ]);
    expectClose(await sequenceLogProbs(logits, targets, mask).data(), [-3 * Math.log(4), -Math.log(4)], 1e-6, 'logps');
    const g = tf.grad((x: tf.Tensor) => tf.sum(sequenceLogProbs(x as tf.Tensor3D, targets, mask)))(logits);
    const expected = [
      [
        [0.75, -0.25, -0.25, -0.25],
        [-0.25, 0.75, -0.25, -0.25],
        [-0.25, -0.25, 0.75, -0.25],
      ],
      [
        [-0.25, -0.25, -0.25, 0.75],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    ];
    expectClose(await g.data(), expected, 1e-6, 'grad');
  });

  for (const c of coreLosses.logprobs) {
    it(`matches PyTorch, values and gradients: ${c.name}`, async () => {
      const logits = tf.tensor3d(c.logits);
      const targets = tf.tensor2d(c.targets, undefined, 'int32');
      const mask = tf.tensor2d(c.mask);
      expectClose(await sequenceLogProbs(logits, targets, mask).data(), c.logps, 1e-5, 'logps');
      const w = tf.tensor1d(c.weights);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sequenceLogProbs(x as tf.Tensor3D, targets, mask), w)))(logits);
      expectClose(await g.data(), c.grad, 1e-5, 'grad');
    });
  }

  it('leaves no tensors behind, with or without a gradient', () => {
    const logits = tf.randomNormal([2, 3, 5]) as tf.Tensor3D;
    const targets = tf.tensor2d(
      [
        [0, 1, 2],
        [3, 4, 0],
      ],
      undefined,
      'int32',
    );
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const before = tf.memory().numTensors;
    sequenceLogProbs(logits, targets, mask).dispose();
    tf.grad((x: tf.Tensor) => tf.sum(sequenceLogProbs(x as tf.Tensor3D, targets, mask)))(logits).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects mismatched shapes', () => {
    expect(() =>
      sequenceLogProbs(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([2, 2], 'int32') as tf.Tensor2D, tf.ones([2, 3]) as tf.Tensor2D),
    ).toThrow(/targets shape/);
  });
});

describe('selectedLogProbs', () => {
  it('uniform logits at the selected positions: the same sums and gradients as sequenceLogProbs (hand-derived)', async () => {
    // The four response positions of sequenceLogProbs' uniform case: row 0 has 3, row 1 has 1.
    const logits = tf.zeros([4, 4]) as tf.Tensor2D;
    const targets = tf.tensor1d([0, 1, 2, 3], 'int32');
    const rows = tf.tensor1d([0, 0, 0, 1], 'int32');
    expectClose(await selectedLogProbs(logits, targets, rows, 2).data(), [-3 * Math.log(4), -Math.log(4)], 1e-6, 'logps');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(selectedLogProbs(x as tf.Tensor2D, targets, rows, 2), tf.tensor1d([1, 2]))))(logits);
    // d/dlogits = dy[row]·(onehot − 1/4), with dy = [1, 2].
    expectClose(
      await g.data(),
      [
        [0.75, -0.25, -0.25, -0.25],
        [-0.25, 0.75, -0.25, -0.25],
        [-0.25, -0.25, 0.75, -0.25],
        [-0.5, -0.5, -0.5, 1.5],
      ],
      1e-6,
      'grad',
    );
  });

  it('equals sequenceLogProbs on the masked positions of a random batch, values and gradients', async () => {
    const [B, T, V] = [3, 5, 7];
    const logits = tf.randomNormal([B, T, V], 0, 3, 'float32', 11) as tf.Tensor3D;
    const targetsArr = Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % V);
    const maskArr = [1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1];
    const pos = maskArr.flatMap((m, i) => (m ? [i] : []));
    const full = (x: tf.Tensor) =>
      sequenceLogProbs(x as tf.Tensor3D, tf.tensor2d(targetsArr, [B, T], 'int32'), tf.tensor2d(maskArr, [B, T]));
    const selected = (x: tf.Tensor) =>
      selectedLogProbs(
        tf.gather(tf.reshape(x, [B * T, V]), tf.tensor1d(pos, 'int32')) as tf.Tensor2D,
        tf.tensor1d(
          pos.map((i) => targetsArr[i]!),
          'int32',
        ),
        tf.tensor1d(
          pos.map((i) => Math.floor(i / T)),
          'int32',
        ),
        B,
      );
    expectClose(await selected(logits).data(), Array.from(await full(logits).data()), 1e-5, 'logps');
    const w = tf.tensor1d([0.5, -1, 2]);
    const gFull = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(full(x), w)))(logits);
    const gSel = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(selected(x), w)))(logits);
    expectClose(await gSel.data(), Array.from(await gFull.data()), 1e-6, 'grad');
  });

  it('rejects positions that do not line up', () => {
    expect(() =>
      selectedLogProbs(tf.zeros([3, 4]) as tf.Tensor2D, tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0, 0, 1], 'int32'), 2),
    ).toThrow(/selectedLogProbs/);
  });
});

describe('sequenceLogProbs on wasm', () => {
  it('matches the cpu backend, values and gradients (fused kernel path)', async () => {
    await expectSame(() => {
      const logits = tf.mul(rand([3, 5, 17], 8), 20) as tf.Tensor3D;
      const targets = tf.tensor2d(
        [
          [1, 16, 3, 0, 5],
          [2, 2, 2, 2, 2],
          [9, 8, 7, 6, 5],
        ],
        undefined,
        'int32',
      );
      const mask = tf.tensor2d([
        [1, 1, 1, 0, 0],
        [1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1],
      ]);
      const w = tf.tensor1d([0.5, -1, 2]);
      const lp = sequenceLogProbs(logits, targets, mask);
      return [lp, tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sequenceLogProbs(x as tf.Tensor3D, targets, mask), w)))(logits)];
    });
  });
});
