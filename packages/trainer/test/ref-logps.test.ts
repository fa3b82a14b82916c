import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreferencePair } from '@irpo/contracts';
import { initBackend, tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeRefLogps } from '../src/ref-logps.js';
import { bigramModel, charTokenizer } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const pair = (id: string, chosen: string, rejected: string): PreferencePair => ({
  v: 1,
  id,
  problemId: id,
  prompt: 'ab',
  chosen,
  rejected,
  chosenSource: 'sample',
});

describe('computeRefLogps', () => {
  it('sums response log-probs only (uniform model: -n·log V)', async () => {
    // Zero weights make every next-token distribution uniform over V = 30, so a response of n
    // tokens (EOS included) scores -n·ln 30 whatever the prompt: "c" → 2 tokens, "xyz" → 4.
    const model = bigramModel(1);
    model.variables.get('lm.weight')!.assign(tf.zeros([30, 30]));
    const dir = await mkdtemp(join(tmpdir(), 'irpo-ref-'));
    const ref = await computeRefLogps(model, charTokenizer, [pair('a', 'c', 'xyz')], { out: join(dir, 'ref.jsonl'), batchSize: 4 });
    const r = ref.get('a')!;
    expect(r.chosen).toBeCloseTo(-2 * Math.log(30), 5);
    expect(r.rejected).toBeCloseTo(-4 * Math.log(30), 5);
    expect(r.chosenTokens).toBe(2);
    expect(r.rejectedTokens).toBe(4);
    model.dispose();
  });

  it('scores no EOS after a side that was cut off by the token limit', async () => {
    // Uniform over V = 30 as above: the truncated rejected "xyz" scores its 3 tokens only
    // (-3·ln 30, not 4), the ended chosen "c" its 2 (with EOS).
    const model = bigramModel(1);
    model.variables.get('lm.weight')!.assign(tf.zeros([30, 30]));
    const dir = await mkdtemp(join(tmpdir(), 'irpo-ref-'));
    const p = { ...pair('a', 'c', 'xyz'), chosenEnded: true, rejectedEnded: false };
    const r = (await computeRefLogps(model, charTokenizer, [p], { out: join(dir, 'ref.jsonl'), batchSize: 4 })).get('a')!;
    expect(r.rejected).toBeCloseTo(-3 * Math.log(30), 5);
    expect(r.rejectedTokens).toBe(3);
    expect(r.chosenTokens).toBe(2);
    model.dispose();
  });

  it('keeps pairs already on disk and computes only the rest', async () => {
    const model = bigramModel(2);
    const dir = await mkdtemp(join(tmpdir(), 'irpo-ref-'));
    const out = join(dir, 'ref.jsonl');
    await writeFile(
      out,
      JSON.stringify({ v: 1, pairId: 'a', chosen: -1, rejected: -2, chosenTokens: 2, rejectedTokens: 2 }) + '\n{"pairId":"b","cho',
    );
    const ref = await computeRefLogps(model, charTokenizer, [pair('a', 'c', 'd'), pair('b', 'c', 'd')], { out, batchSize: 1 });
    expect(ref.get('a')!.chosen).toBe(-1); // not recomputed
    expect(ref.get('b')!.chosen).toBeLessThan(0);
    model.dispose();
  });
});
