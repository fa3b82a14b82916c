import { describe, expect, it } from 'vitest';
import { flipDraw, noisyReward } from './noisy-reward.js';

describe('noisyReward', () => {
  it('flips a fraction q of rewards, within the binomial 99.9% interval, over a fixed seed', () => {
    // 20000 samples (2000 problems × 10): flips ~ Binomial(n, q). The two-sided 99.9%
    // interval is n·q ± 3.2905·sqrt(n·q·(1-q)): 4000 ± 186.1 for q = 0.2, 1000 ± 101.4 for q = 0.05.
    for (const [q, lo, hi] of [
      [0.2, 3814, 4186],
      [0.05, 899, 1101],
    ] as const) {
      const reward = noisyReward(q, 1234)!;
      let flips = 0;
      for (let p = 0; p < 2000; p++) for (let i = 0; i < 10; i++) if (reward(`gsm8k/train/${p}`, i, true) === false) flips++;
      expect(flips).toBeGreaterThanOrEqual(lo);
      expect(flips).toBeLessThanOrEqual(hi);
    }
  });

  it('flips the same samples whatever the order they are asked in, and both ways', () => {
    const reward = noisyReward(0.5, 7)!;
    const ids = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const forward = ids.map((id) => reward(id, 3, true));
    const backward = [...ids]
      .reverse()
      .map((id) => reward(id, 3, true))
      .reverse();
    expect(backward).toEqual(forward);
    // A flipped correct sample is rewarded as wrong, and the same sample were it wrong as right.
    expect(ids.map((id) => reward(id, 3, false))).toEqual(forward.map((r) => !r));
    expect(flipDraw(7, 'p0', 3)).toBe(flipDraw(7, 'p0', 3));
    expect(flipDraw(8, 'p0', 3)).not.toBe(flipDraw(7, 'p0', 3));
  });

  it('is absent for q = 0 (samples carry no reward: training reads correct) and flips every reward for q = 1', () => {
    expect(noisyReward(0, 1)).toBeUndefined();
    const all = noisyReward(1, 1)!;
    expect([all('a', 0, true), all('a', 1, false)]).toEqual([false, true]);
  });
});
