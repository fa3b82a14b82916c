import { describe, expect, it } from 'vitest';
import { StopMatcher } from './stop-matcher.js';

describe('StopMatcher', () => {
  it('finds the earliest of several stops and truncates before it', () => {
    const m = new StopMatcher(['\n\nQ:', 'END', '']);
    expect(m.active).toBe(true);
    expect(m.maxLength).toBe(4);
    expect(m.find('abc END x\n\nQ:')).toBe(4);
    expect(m.truncate('the answer is 4\n\nQ: next')).toEqual({ text: 'the answer is 4', stopped: true });
    expect(m.truncate('no stop here')).toEqual({ text: 'no stop here', stopped: false });
    expect(m.find('END', 1)).toBe(-1);
  });

  it('is inactive without stops', () => {
    expect(new StopMatcher(['']).active).toBe(false);
  });
});
