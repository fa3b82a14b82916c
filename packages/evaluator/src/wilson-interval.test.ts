import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './wilson-interval.js';

describe('wilsonInterval', () => {
  it('8/10: [0.4902, 0.9433]', () => {
    // p = 0.8, z² = 3.8415, d = 1 + z²/n = 1.38415; centre = (p + z²/2n)/d = 0.992073/1.38415 = 0.716738;
    // half = z/d · sqrt(p(1-p)/n + z²/4n²) = 1.41603 · sqrt(0.016 + 0.0096036) = 0.226580.
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.490158, 4);
    expect(hi).toBeCloseTo(0.943318, 4);
  });

  it('0/10 starts at 0 and 10/10 ends at 1, not degenerate like the Wald interval', () => {
    // centre = half = (z²/2n)/d = 0.192073/1.38415 = 0.138767, so the upper end is 0.277535.
    const [lo, hi] = wilsonInterval(0, 10);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.277535, 4);
    const [lo2, hi2] = wilsonInterval(10, 10);
    expect(lo2).toBeCloseTo(1 - 0.277535, 4);
    expect(hi2).toBe(1);
  });

  it('no trials: the whole of [0, 1]; bad counts throw', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
  });
});
