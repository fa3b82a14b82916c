import { initBackend, tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchLogProbs } from '../src/batch-logps.js';
import { encodeSequence, packBatch } from '../src/tokenize.js';
import { bigramModel, charTokenizer } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('batchLogProbs', () => {
  it('logits at the response positions only (forwardAt) give the same sums and gradients as full logits', async () => {
    const base = bigramModel(4);
    const withAt = {
      ...base,
      forwardAt: (ids: tf.Tensor2D, mask: tf.Tensor2D | undefined, positions: tf.Tensor1D) =>
        tf.gather(tf.reshape(base.forward(ids, mask), [-1, base.spec.vocabSize]), positions) as tf.Tensor2D,
    };
    // Rows of different prompt and response lengths, so positions, targets and rows all vary.
    const b = packBatch(
      [
        encodeSequence(charTokenizer, 'what is one', 'one'),
        encodeSequence(charTokenizer, 'hi', 'hello there'),
        encodeSequence(charTokenizer, 'a longer prompt', 'x'),
      ],
      0,
    );
    const full = batchLogProbs(base, b);
    const selected = batchLogProbs(withAt, b);
    const want = Array.from(await full.data());
    const got = Array.from(await selected.data());
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
    expect(want.every((x) => x < 0)).toBe(true);
    const w = base.variables.get('lm.weight')!;
    const grad = (m: typeof base) => tf.grad(() => tf.sum(batchLogProbs(m, b)))(w);
    const gFull = await grad(base).data();
    const gSel = await grad(withAt).data();
    let diff = 0;
    for (let i = 0; i < gFull.length; i++) diff = Math.max(diff, Math.abs(gFull[i]! - gSel[i]!));
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([full, selected]);
    base.dispose();
  });
});
