import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logpDrift } from './logp-drift.js';

/** A run directory whose iter-1/train-log.jsonl has one step per (chosen, rejected) log-prob. */
async function runWithLog(root: string, name: string, logps: [number, number][]): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'iter-1'), { recursive: true });
  const lines = logps.map(([chosen, rejected], i) =>
    JSON.stringify({
      v: 1,
      step: i + 1,
      epoch: (i + 1) / logps.length,
      loss: 0.5,
      dpo: 0.5,
      nll: 1,
      'rewards/chosen': 0,
      'rewards/rejected': 0,
      'rewards/margins': 0,
      'rewards/accuracies': 0.5,
      'logps/chosen': chosen,
      'logps/rejected': rejected,
      grad_norm: 1,
      lr: 1e-5,
      tokens_per_s: 100,
    }),
  );
  await writeFile(join(dir, 'iter-1', 'train-log.jsonl'), lines.join('\n') + '\n');
  return dir;
}

describe('logpDrift', () => {
  it('means the first and the last quarter of the steps; runs without a training log are left out', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-drift-'));
    // 9 steps: a quarter is floor(9/4) = 2 steps, so steps 1-2 against steps 8-9.
    const dpo = await runWithLog(root, 'dpo', [
      [-10, -20],
      [-12, -22],
      [-50, -50],
      [-50, -50],
      [-50, -50],
      [-50, -50],
      [-50, -50],
      [-14, -30],
      [-16, -34],
    ]);
    // 3 steps: a quarter rounds down to 0, so one step at each end.
    const nll = await runWithLog(root, 'dpo-nll', [
      [-8, -9],
      [-99, -99],
      [-4.5, -12.25],
    ]);
    const sft = join(root, 'sft-chosen');
    await mkdir(join(sft, 'iter-1'), { recursive: true });

    const { rows, markdown } = await logpDrift({ 'dpo-nll': nll, dpo, 'sft-chosen': sft });
    expect(rows).toEqual([
      { run: 'dpo-nll', steps: 3, chosenStart: -8, chosenEnd: -4.5, rejectedStart: -9, rejectedEnd: -12.25 },
      { run: 'dpo', steps: 9, chosenStart: -11, chosenEnd: -15, rejectedStart: -21, rejectedEnd: -32 },
    ]);
    expect(markdown.split('\n').slice(2)).toEqual([
      '| Run | Steps | log π(chosen) | log π(rejected) |',
      '|---|---|---|---|',
      '| dpo-nll | 3 | -8.00 → -4.50 | -9.00 → -12.25 |',
      '| dpo | 9 | -11.00 → -15.00 | -21.00 → -32.00 |',
    ]);
  });
});
