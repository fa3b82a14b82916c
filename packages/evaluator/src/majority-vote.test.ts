import { describe, expect, it } from 'vitest';
import { makeSample as s } from '../test/make-sample.js';
import { MathTask } from '@irpo/data';
import { majorityVote, voteOptions } from './majority-vote.js';

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

  it('MATH: 0.75, \\frac{3}{4} and 3/4 are one answer, whatever the order of the votes', () => {
    const math = new MathTask();
    // Gold \frac34: the three spellings of 3/4 are right, 1 is wrong.
    const r = majorityVote([s('p', 0, '1', false), s('p', 1, '0.75', true), s('p', 2, '\\frac{3}{4}', true)], voteOptions(math));
    expect(r).toEqual({ answer: '0.75', votes: 2, cast: 3, sampleIndex: 1, correct: true });
    // Raw strings: three groups of one, and the tie goes to the earliest, '1'.
    expect(majorityVote([s('p', 0, '1', false), s('p', 1, '0.75', true), s('p', 2, '\\frac{3}{4}', true)])?.answer).toBe('1');
    const signs = [s('p', 0, '2', false), s('p', 1, '\\frac{-2}{3}', true), s('p', 2, '-\\frac{2}{3}', true), s('p', 3, '-2/3', true)];
    expect(majorityVote(signs, voteOptions(math))).toMatchObject({ votes: 3, sampleIndex: 1, correct: true });
    const zeros = [s('p', 0, '19', false), s('p', 1, '18.90', true), s('p', 2, '18.9', true)];
    expect(majorityVote(zeros, voteOptions(math))).toMatchObject({ answer: '18.9', votes: 2, sampleIndex: 1 });
  });

  it('falls back on the task equivalence for what the key cannot decide', () => {
    const math = new MathTask();
    // 2\sqrt{2} and \sqrt{8} normalise differently but are one number.
    const samples = [s('p', 0, '3', false), s('p', 1, '2\\sqrt{2}', true), s('p', 2, '\\sqrt{8}', true)];
    expect(majorityVote(samples, { normalize: (a) => math.normalizeAnswer(a) })?.answer).toBe('3');
    const r = majorityVote(samples, voteOptions(math));
    expect(r).toMatchObject({ votes: 2, sampleIndex: 1, correct: true });
    expect(majorityVote([...samples].reverse(), voteOptions(math))).toEqual(r);
  });

  it('asks the equivalence only between differing forms, representative first, once per new form', () => {
    const calls: string[] = [];
    const equivalent = (a: string, b: string) => {
      calls.push(`${a}~${b}`);
      return Math.abs(Number(a) - Number(b)) <= 1;
    };
    // 1 opens a group; 1 again is the same form (no call); 2 joins 1's group (|2-1| <= 1);
    // 3 is compared with the representative 1, not with 2, and opens its own group; 3 again
    // reuses the form's group (no call).
    const r = majorityVote(
      [s('p', 0, '1', true), s('p', 1, '1', true), s('p', 2, '2', true), s('p', 3, '3', false), s('p', 4, '3', false)],
      {
        equivalent,
      },
    );
    expect(calls).toEqual(['1~2', '1~3']);
    expect(r).toEqual({ answer: '1', votes: 3, cast: 5, sampleIndex: 0, correct: true });
  });

  it('ties keep the earliest-vote rule when groups are merged by equivalence', () => {
    const equivalent = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    // Groups: {x@0, X@3} and {y@1, Y@2}: two votes each, x's earliest vote (0) is earlier.
    const samples = [s('p', 3, 'X', false), s('p', 2, 'Y', true), s('p', 1, 'y', true), s('p', 0, 'x', false)];
    expect(majorityVote(samples, { equivalent })).toEqual({ answer: 'x', votes: 2, cast: 4, sampleIndex: 0, correct: false });
  });
});
