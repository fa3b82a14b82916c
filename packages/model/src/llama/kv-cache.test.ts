import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@irpo/core';
import { loadCheckpoint } from '../io/checkpoint.js';
import { fixtureDir } from '../../test/fixture-paths.js';
import { maxAbsDiff } from '../../test/numerics.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Logits of a full forward pass over one unpadded row: [T, V] as nested arrays. */
async function fullLogits(model: { forward(ids: tf.Tensor2D): tf.Tensor3D }, ids: number[]): Promise<number[][]> {
  const input = tf.tensor2d([ids], undefined, 'int32');
  const logits = model.forward(input);
  const rows = (await logits.array())[0]!;
  tf.dispose([input, logits]);
  return rows;
}

describe('KV-cache generation', () => {
  it.each(['llama-gqa', 'qwen2-bias', 'llama-tied'])(
    '%s: prefill of a left-padded batch + 32 decode steps equal full forward passes within 1e-4',
    async (name) => {
      const { model } = await loadCheckpoint(fixtureDir(name));
      const prompts = [
        [1, 17, 5, 42, 9],
        [1, 23],
        [1, 8, 30, 2],
      ];
      const width = Math.max(...prompts.map((p) => p.length));
      const padded = prompts.map((p) => [...Array(width - p.length).fill(0), ...p]);
      const mask = prompts.map((p) => [...Array(width - p.length).fill(0), ...p.map(() => 1)]);
      const steps = 32;
      // Fixed continuations (not argmax) so every row sees different, known tokens.
      const cont = prompts.map((_, r) => Array.from({ length: steps }, (_, j) => (7 * j + 13 * r + 3) % 64));
      const refs = await Promise.all(prompts.map((p, r) => fullLogits(model, [...p, ...cont[r]!])));

      const ids = tf.tensor2d(padded, undefined, 'int32');
      const m = tf.tensor2d(mask, undefined, 'int32');
      const { logits, cache } = model.prefill(ids, m, steps);
      expect(cache.batch).toBe(3);
      expect(cache.length).toBe(width);
      const first = (await logits.array()) as number[][];
      prompts.forEach((p, r) => expect(maxAbsDiff(first[r]!, refs[r]![p.length - 1]!)).toBeLessThan(1e-4));
      tf.dispose([ids, m, logits]);

      let before = -1;
      for (let j = 0; j < steps; j++) {
        const tok = tf.tensor1d(
          cont.map((c) => c[j]!),
          'int32',
        );
        const out = model.decode(tok, cache);
        const got = (await out.array()) as number[][];
        prompts.forEach((p, r) => expect(maxAbsDiff(got[r]!, refs[r]![p.length + j]!)).toBeLessThan(1e-4));
        tf.dispose([tok, out]);
        // The cache replaces its tensors each step; nothing else may accumulate.
        if (j === 1) before = tf.memory().numTensors;
        if (j > 1) expect(tf.memory().numTensors).toBe(before);
      }
      expect(cache.length).toBe(width + steps);
      cache.dispose();
      model.dispose();
    },
  );

  it('select keeps the chosen rows and decoding continues exactly', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const prompts = [
      [1, 5, 6, 7],
      [1, 9],
      [1, 40, 41],
    ];
    const width = 4;
    const ids = tf.tensor2d(
      prompts.map((p) => [...Array(width - p.length).fill(0), ...p]),
      undefined,
      'int32',
    );
    const m = tf.tensor2d(
      prompts.map((p) => [...Array(width - p.length).fill(0), ...p.map(() => 1)]),
      undefined,
      'int32',
    );
    const { logits, cache } = model.prefill(ids, m, 8);
    tf.dispose([ids, m, logits]);
    const t1 = tf.tensor1d([10, 11, 12], 'int32');
    tf.dispose([t1, model.decode(t1, cache)]);
    const kept = cache.select([2, 0]); // row 1 finished; order may change
    expect(kept.batch).toBe(2);
    const t2 = tf.tensor1d([20, 21], 'int32');
    const out = (await model.decode(t2, kept).array()) as number[][];
    const ref2 = await fullLogits(model, [...prompts[2]!, 12, 20]);
    const ref0 = await fullLogits(model, [...prompts[0]!, 10, 21]);
    expect(maxAbsDiff(out[0]!, ref2[ref2.length - 1]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(out[1]!, ref0[ref0.length - 1]!)).toBeLessThan(1e-4);
    tf.dispose(t2);
    kept.dispose();
    model.dispose();
  });
  it('rows leaving the batch compact the cache in place; decoding continues exactly, past a capacity doubling', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const prompts = [
      [1, 5, 6, 7],
      [1, 9],
      [1, 40, 41],
      [1, 3, 4],
    ];
    const width = 4;
    const pad = (rows: number[][], v: (x: number) => number) => rows.map((p) => [...Array(width - p.length).fill(0), ...p.map(v)]);
    const ids = tf.tensor2d(
      pad(prompts, (x) => x),
      undefined,
      'int32',
    );
    const m = tf.tensor2d(
      pad(prompts, () => 1),
      undefined,
      'int32',
    );
    // capacity 2 new columns: the third step below grows the compacted cache
    const { logits, cache } = model.prefill(ids, m, 2);
    tf.dispose([ids, m, logits]);
    const seen = prompts.map((p) => [...p]);
    const step = async (rows: number[], toks: number[]) => {
      const t = tf.tensor1d(toks, 'int32');
      const out = (await model.decode(t, cache).array()) as number[][];
      tf.dispose(t);
      rows.forEach((r, i) => seen[r]!.push(toks[i]!));
      return out;
    };
    await step([0, 1, 2, 3], [10, 11, 12, 13]);
    expect(cache.select([0, 2, 3])).toBe(cache); // row 1 finished: no new cache
    expect(cache.batch).toBe(3);
    await step([0, 2, 3], [20, 22, 23]);
    expect(cache.select([1, 2])).toBe(cache); // row 0 of those (prompt 0) finished
    const out = await step([2, 3], [32, 33]);
    for (const [i, r] of [2, 3].entries()) {
      const ref = await fullLogits(model, seen[r]!);
      expect(maxAbsDiff(out[i]!, ref[ref.length - 1]!)).toBeLessThan(1e-4);
    }
    // a reordering still gathers into a new cache
    const swapped = cache.select([1, 0]);
    expect(swapped).not.toBe(cache);
    const again = (await model.decode(tf.tensor1d([43, 42], 'int32'), swapped).array()) as number[][];
    const ref3 = await fullLogits(model, [...seen[3]!, 43]);
    expect(maxAbsDiff(again[0]!, ref3[ref3.length - 1]!)).toBeLessThan(1e-4);
    swapped.dispose();
    model.dispose();
  });
});
