import { EvalReportSchema } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { makeSample as s } from '../test/make-sample.js';
import { MathTask } from '@irpo/data';
import { buildEvalReport } from './build-eval-report.js';
import { voteOptions } from './majority-vote.js';

// Four problems. Greedy: p1 right, p2 wrong, p3 right, p4 has no greedy sample (wrong) → 2/4.
const problems = [
  { id: 'p1', meta: { subject: 'Algebra', level: 2 } },
  { id: 'p2', meta: { subject: 'Algebra', level: 10 } },
  { id: 'p3', meta: { subject: 'Geometry', level: 2 } },
  { id: 'p4' },
];
const greedySamples = [s('p1', 0, 'a', true), s('p2', 0, 'x', false), s('p3', 0, 'g', true)];
// Three samples per problem:
//   p1: a✓ b✗ a✓      → maj a ✓           c=2
//   p2: y✗ x✓ null     → tie y/x, y first ✗ c=1
//   p3: all abstain     → no vote ✗        c=0
//   p4: q✓ r✗ r✗      → maj r ✗           c=1
const samples = [
  s('p1', 0, 'a', true),
  s('p1', 1, 'b', false),
  s('p1', 2, 'a', true),
  s('p2', 2, null, false),
  s('p2', 1, 'x', true),
  s('p2', 0, 'y', false),
  s('p3', 0, null, false),
  s('p3', 1, null, false),
  s('p3', 2, null, false),
  s('p4', 0, 'q', true),
  s('p4', 1, 'r', false),
  s('p4', 2, 'r', false),
];

describe('buildEvalReport', () => {
  const report = buildEvalReport({
    task: 'math',
    split: 'test',
    model: 'm0',
    problems,
    greedySamples,
    samples,
    majK: [1, 3],
    passK: [1, 2],
    breakdownBy: ['subject', 'level'],
    createdAt: '2024-01-01T00:00:00.000Z',
  });

  it('is a valid eval.json', () => {
    expect(EvalReportSchema.parse(report)).toEqual(report);
    expect(report.problems).toBe(4);
  });

  it('greedy: 2/4, a missing greedy sample counts wrong', () => {
    expect(report.greedy).toMatchObject({ accuracy: 0.5, correct: 2, total: 4 });
    expect(report.greedy.ci95[0]).toBeLessThan(0.5);
    expect(report.greedy.ci95[1]).toBeGreaterThan(0.5);
  });

  it('maj@3 = 1/4 (tie and abstentions lose); maj@1 votes on sample 0 only = 2/4', () => {
    expect(report.maj['3']).toMatchObject({ correct: 1, total: 4, accuracy: 0.25 });
    // maj@1: p1 a✓, p2 y✗, p3 null✗, p4 q✓.
    expect(report.maj['1']).toMatchObject({ correct: 2, total: 4 });
  });

  it('pass@1 = mean c/n = 1/3; pass@2 = 7/12', () => {
    // pass@1: (2/3 + 1/3 + 0 + 1/3) / 4 = 1/3.
    expect(report.pass['1']).toBeCloseTo(1 / 3, 12);
    // pass@2 per problem: p1 n-c=1<2 → 1; p2 1-C(2,2)/C(3,2) = 2/3; p3 0; p4 2/3 → (7/3)/4.
    expect(report.pass['2']).toBeCloseTo(7 / 12, 12);
  });

  it('breaks greedy accuracy down by meta fields, numeric values in numeric order', () => {
    expect(Object.keys(report.breakdown)).toEqual(['subject=Algebra', 'subject=Geometry', 'level=2', 'level=10']);
    expect(report.breakdown['subject=Algebra']).toMatchObject({ correct: 1, total: 2 });
    expect(report.breakdown['subject=Geometry']).toMatchObject({ correct: 1, total: 1 });
    expect(report.breakdown['level=2']).toMatchObject({ correct: 2, total: 2 });
    expect(report.breakdown['level=10']).toMatchObject({ correct: 0, total: 1 });
  });

  it('normalisation changes the vote', () => {
    const ss = [s('p', 0, 'x', false), s('p', 1, 'A', true), s('p', 2, 'a', true)];
    const base = { task: 't', split: 'test', model: 'm', problems: [{ id: 'p' }], greedySamples: [], samples: ss, majK: 3 };
    expect(buildEvalReport(base).maj['3']!.correct).toBe(0);
    expect(buildEvalReport({ ...base, normalize: (a) => a.toLowerCase() }).maj['3']!.correct).toBe(1);
  });

  it('MATH maj@3 counts 0.75, \\frac{3}{4} against 1 as right when the gold is \\frac34', () => {
    const math = new MathTask();
    const gold = { v: 1 as const, id: 'p', question: 'q', answer: '\\frac34' };
    const judged = (i: number, answer: string) => s('p', i, answer, math.isCorrect(answer, gold));
    const base = { task: 'math', split: 'test', model: 'm', problems: [{ id: 'p' }], greedySamples: [], majK: 3 };
    for (const answers of [
      ['0.75', '\\frac{3}{4}', '1'],
      ['1', '0.75', '\\frac{3}{4}'],
    ]) {
      const samples = answers.map((a, i) => judged(i, a));
      expect(samples.map((x) => x.correct)).toEqual(answers.map((a) => a !== '1'));
      expect(buildEvalReport({ ...base, samples, ...voteOptions(math) }).maj['3']!.correct).toBe(1);
    }
    // Raw-string votes: 1 comes first, the three-way tie goes to it, the problem counts wrong.
    expect(buildEvalReport({ ...base, samples: ['1', '0.75', '\\frac{3}{4}'].map((a, i) => judged(i, a)) }).maj['3']!.correct).toBe(0);
    // Only the equivalence joins 2\sqrt{2} and \sqrt{8} (gold \sqrt{8}).
    const root = { ...gold, answer: '\\sqrt{8}' };
    const roots = ['3', '2\\sqrt{2}', '\\sqrt{8}'].map((a, i) => s('p', i, a, math.isCorrect(a, root)));
    expect(buildEvalReport({ ...base, samples: roots, normalize: (a) => math.normalizeAnswer(a) }).maj['3']!.correct).toBe(0);
    expect(buildEvalReport({ ...base, samples: roots, ...voteOptions(math) }).maj['3']!.correct).toBe(1);
  });

  it('refuses k above the samples drawn, unknown problems and duplicate samples', () => {
    const base = { task: 't', split: 'test', model: 'm', problems, greedySamples, samples };
    expect(() => buildEvalReport({ ...base, majK: 4 })).toThrow(/k=4 needs 4 samples per problem; problem p1 has 3/);
    expect(() => buildEvalReport({ ...base, passK: 4 })).toThrow(/k=4/);
    expect(() => buildEvalReport({ ...base, greedySamples: [s('zz', 0, '1', true)] })).toThrow(/zz/);
    expect(() => buildEvalReport({ ...base, samples: [...samples, s('p1', 2, 'a', true)], majK: 3 })).toThrow(/index 2 appears twice/);
  });
});
