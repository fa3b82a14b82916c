import { describe, expect, it } from 'vitest';
import { ARITH_CHARSET, arithSplitOf, generateArith } from './arith-generator.js';
import { ArithTask } from './arith-task.js';

describe('arith task', () => {
  const task = new ArithTask();

  it('is deterministic for a seed and differs across seeds', async () => {
    const a = await new ArithTask({ seed: 7 }).load('train', { limit: 50 });
    const b = await new ArithTask({ seed: 7 }).load('train', { limit: 50 });
    const c = await new ArithTask({ seed: 8 }).load('train', { limit: 50 });
    expect(a).toEqual(b);
    expect(a.map((p) => p.question)).not.toEqual(c.map((p) => p.question));
  });

  it('has the default sizes and never shares a problem between splits', async () => {
    const train = await task.load('train');
    const test = await task.load('test');
    const dev = await task.load('dev');
    expect([train.length, test.length, dev.length]).toEqual([2000, 200, 200]);
    const keys = (ps: typeof train) => new Set(ps.map((p) => p.meta!.key as string));
    const tr = keys(train);
    expect(tr.size).toBe(2000);
    for (const k of keys(test)) expect(tr.has(k)).toBe(false);
    for (const k of keys(dev)) expect(tr.has(k)).toBe(false);
    for (const p of test) expect(arithSplitOf(p.meta!.key as string)).toBe('test');
    // The test split does not depend on how many train problems were asked for.
    const small = generateArith('test', { size: { train: 10, test: 200 } });
    expect(small).toEqual(test);
  });

  it('keeps text short, ASCII, within the charset, and its arithmetic right', async () => {
    const problems = await task.load('train');
    const charset = new Set(ARITH_CHARSET);
    const steps = new Set<number>();
    const bad: string[] = [];
    expect(/^[\x20-\x7e\n]*$/.test(ARITH_CHARSET)).toBe(true);
    for (const p of problems) {
      const prompt = task.prompt(p);
      const gold = task.goldCompletion(p)!;
      if (prompt.length > 120 || gold.length > 80) bad.push(`too long: ${p.id}`);
      for (const ch of prompt + gold) if (!charset.has(ch)) bad.push(`char ${JSON.stringify(ch)} in ${p.id}`);
      // Re-check every "a op b = c." line independently of the generator.
      const lines = [...gold.matchAll(/(\d+) ([-+*/]) (\d+) = (\d+)\./g)];
      steps.add(lines.length);
      let prev = Number(p.question.match(/has (\d+)/)![1]);
      for (const [, a, op, b, c] of lines) {
        const x = Number(a),
          y = Number(b);
        const want = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
        if (x !== prev || Number(c) !== want) bad.push(`arithmetic in ${p.id}`);
        prev = Number(c);
      }
      if (String(prev) !== p.answer) bad.push(`answer of ${p.id}`);
      if (!task.isCorrect(task.extractAnswer(gold), p)) bad.push(`gold judged wrong: ${p.id}`);
    }
    expect(bad).toEqual([]);
    expect([...steps].sort()).toEqual([2, 3, 4]);
  });

  it('renders the documented example shape', async () => {
    const [p] = await task.load('test', { limit: 1 });
    expect(task.prompt(p)).toMatch(/^Q: [A-Z][a-z]+ has \d+ [a-z]+\. (She|He) .+\. How many [a-z]+ does (she|he) have\?\nA: $/);
    expect(p.solution).toMatch(/^(\d+ [-+*/] \d+ = \d+\. ?){2,4}\nFinal answer: \d+$/);
  });

  it('honours the difficulty knobs', () => {
    const ps = generateArith('train', { operations: ['add'], minSteps: 3, maxSteps: 3, maxOperand: 5, size: { train: 100 } });
    expect(ps).toHaveLength(100);
    for (const p of ps) {
      expect(p.meta!.ops).toBe('add,add,add');
      for (const m of p.solution!.matchAll(/\+ (\d+) =/g)) expect(Number(m[1])).toBeLessThanOrEqual(5);
    }
    const div = generateArith('test', { operations: ['div', 'add'], maxFactor: 4, size: { test: 50 } });
    expect(div.some((p) => p.solution!.includes(' / '))).toBe(true);
    expect(() => generateArith('test', { minSteps: 3, maxSteps: 2 })).toThrow(/minSteps/);
    expect(() =>
      generateArith('train', { operations: ['add'], minSteps: 1, maxSteps: 1, maxStart: 2, maxOperand: 1, size: { train: 5 } }),
    ).toThrow(/distinct/);
  });

  it('judges answers numerically and rejects wrong or missing ones', async () => {
    const [p] = await task.load('test', { limit: 1 });
    const n = Number(p.answer);
    expect(task.isCorrect(task.extractAnswer(`blah\nFinal answer: ${n}`), p)).toBe(true);
    expect(task.isCorrect(task.extractAnswer(`Final Answer: ${n}.`), p)).toBe(true);
    expect(task.isCorrect(task.extractAnswer(`Final answer: ${n + 1}`), p)).toBe(false);
    expect(task.isCorrect(task.extractAnswer(`${n}`), p)).toBe(false);
    expect(task.extractAnswer('no answer here')).toBeNull();
    expect(task.isCorrect(null, p)).toBe(false);
    expect(task.normalizeAnswer('14.0')).toBe('14');
  });
});
