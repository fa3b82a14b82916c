import { describe, expect, it } from 'vitest';
import { makeSample as s } from '../test/make-sample.js';
import { majorityVote } from './majority-vote.js';

describe('majorityVote', () => {
  it('the most frequent answer wins; abstentions do not count', () => {
    const r = majorityVote([
      s('p', 0, '7', false),
      s('p', 1, null, false),
      s('p', 2, '9', true),
      s('p', 3, '9', true),
      s('p', 4, null, false),
    ]);
    expect(r).toEqual({ answer: '9', votes: 2, cast: 3, sampleIndex: 2, correct: true });
  });

  it('a tie goes to the answer voted first (lowest sample index), whatever the file order', () => {
    // '3' at indices 0 and 2, '4' at 1 and 4: 2 votes each; '3' has the earlier vote.
    const samples = [s('p', 4, '4', true), s('p', 2, '3', false), s('p', 1, '4', true), s('p', 3, null, false), s('p', 0, '3', false)];
    const r = majorityVote(samples);
    expect(r?.answer).toBe('3');
    expect(r?.sampleIndex).toBe(0);
    expect(r?.correct).toBe(false);
    expect(majorityVote([...samples].reverse())).toEqual(r);
  });

  it('answers vote together after normalisation', () => {
    const normalize = (a: string) => String(Number(a.replace(/,/g, '')));
    const r = majorityVote([s('p', 0, '5', false), s('p', 1, '1,000', true), s('p', 2, '1000.0', true)], { normalize });
    expect(r).toMatchObject({ answer: '1000', votes: 2, sampleIndex: 1, correct: true });
    // Without normalisation the three answers tie at one vote and the first wins.
    expect(majorityVote([s('p', 0, '5', false), s('p', 1, '1,000', true), s('p', 2, '1000.0', true)])?.answer).toBe('5');
  });

  it('no votes at all: null', () => {
    expect(majorityVote([s('p', 0, null, false), s('p', 1, null, false)])).toBeNull();
    expect(majorityVote([])).toBeNull();
  });
});
