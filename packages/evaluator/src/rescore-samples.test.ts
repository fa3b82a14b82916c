import { describe, expect, it } from 'vitest';
import { makeSample } from '../test/make-sample.js';
import { rescoreSamples } from './rescore-samples.js';
import type { ScoringTask } from './scoring-task.js';

// A stand-in checker: the answer is the last number; correct when it equals the gold answer.
const task: ScoringTask = {
  name: 'toy',
  extractAnswer: (c) => c.match(/-?\d+/g)?.at(-1) ?? null,
  isCorrect: (a, p) => a !== null && a === p.answer,
  normalizeAnswer: (a) => a,
};
const problems = [{ v: 1 as const, id: 'p1', question: '2+2', answer: '4' }];

describe('rescoreSamples', () => {
  it('re-extracts answers and re-judges them against the gold answer', () => {
    const stale = [
      { ...makeSample('p1', 0, '5', true), completion: '2+2 is 4' },
      { ...makeSample('p1', 1, '4', true), completion: 'I think 5' },
      { ...makeSample('p1', 2, '4', true), completion: 'no idea' },
    ];
    expect(rescoreSamples(stale, problems, task).map((s) => [s.answer, s.correct])).toEqual([
      ['4', true],
      ['5', false],
      [null, false],
    ]);
  });

  it('a sample of an unknown problem is an error', () => {
    expect(() => rescoreSamples([makeSample('zz', 0, '1', true)], problems, task)).toThrow(/zz#0/);
  });
});
