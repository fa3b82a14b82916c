import { describe, expect, it } from 'vitest';
import { formatDuration } from './duration.js';

describe('formatDuration', () => {
  it('writes m:ss, h:mm:ss from an hour on, and --:-- when unknown', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(6.4)).toBe('0:06');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3599.6)).toBe('1:00:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('--:--');
    expect(formatDuration(-1)).toBe('--:--');
  });
});
