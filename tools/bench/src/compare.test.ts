import { describe, expect, it } from 'vitest';
import { bestPerPhase, cpuSample, loadDrift, MAX_LOAD_DRIFT, otherCores, peerSettings } from './compare.js';

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

  it('counts the CPU others used during a run, not the benchmark’s own threads', () => {
    // 10 s of wall time at 100 ticks/s: the machine was busy 2500 ticks and lost 100 to steal;
    // the benchmark (this process and its children) used 2000: others, 600 ticks = 0.6 cores.
    const a = { wallMs: 0, busyTicks: 1000, stealTicks: 50, ownTicks: 300 };
    const b = { wallMs: 10_000, busyTicks: 3500, stealTicks: 150, ownTicks: 2300 };
    expect(otherCores(a, b)).toBeCloseTo(0.6, 12);
    // A benchmark alone on two cores: busy = its own time, nobody else.
    expect(otherCores(a, { ...b, busyTicks: 3000, stealTicks: 50 })).toBe(0);
    // From /proc text: user nice system idle iowait irq softirq steal; own utime+stime+cutime+cstime.
    const files: Record<string, string> = {
      '/proc/stat': 'cpu  100 5 20 9000 3 1 2 7 0 0\ncpu0 50 2 10 4500 1 0 1 3 0 0\n',
      '/proc/self/stat': '4242 (node (x)) S 1 4242 4242 0 -1 4194560 10 0 0 0 11 12 13 14 20 0 1 0',
    };
    expect(cpuSample((p) => files[p]!)).toMatchObject({ busyTicks: 128, stealTicks: 7, ownTicks: 50 });
    expect(
      cpuSample(() => {
        throw new Error('no /proc');
      }),
    ).toBeNull();
  });
});
