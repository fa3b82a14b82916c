import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareRuns } from './compare-runs.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

describe('compareRuns', () => {
  it('tabulates DPO+NLL against plain DPO from their run directories', async () => {
    const { rows, markdown } = await compareRuns([fixture('run-basic'), fixture('run-dpo')]);
    expect(rows.map((r) => [r.run, r.loss, r.finalIteration])).toEqual([
      ['run-basic', 'dpo-nll', 2],
      ['run-dpo', 'dpo', 2],
    ]);
    // Fixture: greedy 10, 17, 22 of 40 (iteration 3 still training) and 10, 12, 11 of 40.
    expect(rows[0]!.accuracyByIteration).toEqual([0.25, 0.425, 0.55, null]);
    expect(rows[1]!.accuracyByIteration).toEqual([0.25, 0.3, 0.275]);
    expect(rows[0]!.greedy).toMatchObject({ correct: 22, total: 40 });
    expect(rows[1]!.maj['8']).toMatchObject({ correct: 15, total: 40 });
    // The last logged step: iter-3's third step for run-basic, iter-2's eighth for run-dpo.
    expect(rows[0]!.lastLogpChosen).toBe(-30.5744);
    expect(rows[1]!.lastLogpChosen).toBeLessThan(-42);
    expect(markdown.split('\n')[0]).toBe(
      '| Run | Training | Final iteration | Greedy [95% CI] | maj@8 [95% CI] | Iter 0 | Iter 1 | Iter 2 | Iter 3 | Last log-prob chosen | Last log-prob rejected |',
    );
    expect(markdown).toContain('| run-dpo | dpo | 2 | 27.5% [16.1, 42.8] | 37.5% [24.2, 53.0] | 25.0% | 30.0% | 27.5% | – |');
  });
});
