import { describe, expect, it } from 'vitest';
import { bestPerPhase, loadDrift, MAX_LOAD_DRIFT, peerSettings } from './compare.js';

describe('bench:compare takes the peer at its best', () => {
  it('tries both wait policies with 1 thread and with every core', () => {
    expect(peerSettings(2)).toEqual([
      { ompWaitPolicy: 'PASSIVE', threads: 1 },
      { ompWaitPolicy: 'PASSIVE', threads: 2 },
      { ompWaitPolicy: 'ACTIVE', threads: 1 },
      { ompWaitPolicy: 'ACTIVE', threads: 2 },
    ]);
    expect(peerSettings(1)).toEqual([
      { ompWaitPolicy: 'PASSIVE', threads: 1 },
      { ompWaitPolicy: 'ACTIVE', threads: 1 },
    ]);
  });

  it('picks the fastest setting per phase, not per run', () => {
    const passive = { ompWaitPolicy: 'PASSIVE' as const, threads: 2 };
    const active = { ompWaitPolicy: 'ACTIVE' as const, threads: 2 };
    const best = bestPerPhase([
      { framework: 'torch', phase: 'train', tokens_per_s: 8172, setting: passive },
      { framework: 'torch', phase: 'sample', tokens_per_s: 5586, setting: passive },
      { framework: 'torch', phase: 'train', tokens_per_s: 13196, setting: active },
      { framework: 'torch', phase: 'sample', tokens_per_s: 3008, setting: active },
    ]);
    expect(best.get('train')?.tokens_per_s).toBe(13196);
    expect(best.get('train')?.setting).toBe(active);
    expect(best.get('sample')?.tokens_per_s).toBe(5586);
    expect(best.get('sample')?.setting).toBe(passive);
  });

  it('measures how far the load average moved', () => {
    expect(loadDrift([0.4, 0.9, 0.6])).toBeCloseTo(0.5, 12);
    expect(loadDrift([0.5, 1.7])).toBeGreaterThan(MAX_LOAD_DRIFT);
    expect(loadDrift([])).toBe(0);
  });
});
