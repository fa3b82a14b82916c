import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreferencePairSchema, readJsonlAll, SampleSchema } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { flipDraw } from '../src/noisy-reward.js';
import { createProgress } from '../src/progress.js';
import { stageSeed } from '../src/stages.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const quiet = createProgress(process.stderr, true);

describe('reward.flipProbability in a run', () => {
  it('records the true correct and the flipped reward per sample, and pairs by the reward', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-noisy-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    const q = 0.5;
    const config = tinyConfig(m0, {
      iterations: 1,
      task: { name: 'arith', trainLimit: 8, testLimit: 2, goldAsWinner: true },
      reward: { flipProbability: q },
    });
    const out = join(root, 'run');
    await runIterativeRpo(config, { out, progress: quiet });
    const samples = await readJsonlAll(join(out, 'iter-1', 'samples.jsonl'), SampleSchema);
    const seed = stageSeed(config.seed, 1, 1); // the sample stage's seed
    for (const s of samples) {
      const flipped = flipDraw(seed, s.problemId, s.index) < q;
      expect(s.reward, `${s.problemId}/${s.index}`).toBe(flipped ? !s.correct : s.correct);
    }
    // Losers are the samples rewarded as wrong, whatever their true correctness; winners the gold
    // solutions and the samples rewarded as right.
    const key = (problemId: string, text: string) => `${problemId}\u0000${text}`;
    const right = new Set(samples.filter((s) => s.reward).map((s) => key(s.problemId, s.completion)));
    const wrong = new Set(samples.filter((s) => !s.reward).map((s) => key(s.problemId, s.completion)));
    const pairs = await readJsonlAll(join(out, 'iter-1', 'pairs.jsonl'), PreferencePairSchema);
    expect(pairs.length).toBeGreaterThan(0);
    for (const p of pairs) {
      expect(wrong.has(key(p.problemId, p.rejected))).toBe(true);
      if (p.chosenSource === 'sample') expect(right.has(key(p.problemId, p.chosen))).toBe(true);
    }
  }, 300_000);
});
