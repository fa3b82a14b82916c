import { describe, expect, it } from 'vitest';
import { lrSchedule } from './lr-schedule.js';

describe('lrSchedule', () => {
  it('warm-up then cosine: 0, half, peak, half-way down, floor', () => {
    // warm-up 4, total 12: step 2 → 2/4 of peak; step 8 is half-way through the 8 decay steps,
    // cos(π/2) = 0 → 0.5·peak; step 12 → cos(π) → 0 (then the floor, minLr).
    const f = lrSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 4, totalSteps: 12 });
    expect([f(0), f(2), f(4), f(8), f(12), f(20)]).toEqual([
      0,
      0.5,
      1,
      expect.closeTo(0.5, 12),
      expect.closeTo(0, 12),
      expect.closeTo(0, 12),
    ]);
    const g = lrSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 0, totalSteps: 10, minLr: 0.1 });
    expect(g(10)).toBeCloseTo(0.1, 12);
  });

  it('linear decay and constant', () => {
    const f = lrSchedule({ kind: 'linear', peakLr: 2, warmupSteps: 2, totalSteps: 6 });
    expect([f(1), f(2), f(4), f(6)]).toEqual([1, 2, 1, 0]); // 2·(1 − (4−2)/4) = 1
    const c = lrSchedule({ kind: 'constant', peakLr: 3, warmupSteps: 3 });
    expect([c(0), c(1), c(3), c(1000)]).toEqual([0, 1, 3, 3]);
  });

  it('rejects a decay without room after warm-up', () => {
    expect(() => lrSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 5, totalSteps: 5 })).toThrow(/totalSteps/);
  });
});
