import { describe, expect, it } from 'vitest';
import { formatProgress } from './progress.js';

// formatDuration's cases are in @irpo/contracts (duration.test.ts).
describe('progress line', () => {
  it('reports rates over this run only and the ETA they give', () => {
    // 40 of 100 done, 10 of them resumed: 30 made in 15 s = 2 samples/s; 60 left → 30 s
    const line = formatProgress({ done: 40, total: 100, resumed: 10, tokens: 1500 }, 15, 10);
    expect(line).toBe('[####......] 40/100 40.0% | 2.00 samples/s | 100.0 tokens/s | ETA 0:30');
  });

  it('shows an unknown ETA before anything is made', () => {
    expect(formatProgress({ done: 0, total: 8, resumed: 0, tokens: 0 }, 0, 4)).toContain('ETA --:--');
  });
});
