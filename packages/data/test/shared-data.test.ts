import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastBoxed } from '../src/answers/boxed.js';
import { mathAnswerKey } from '../src/answers/math-answer-key.js';
import { mathEquiv } from '../src/answers/math-equiv.js';
import { getTask } from '../src/get-task.js';
import { MATH_EXEMPLARS } from '../src/prompts/math-fewshot.js';
import type { Split } from '../src/task.js';

// The real data lives in `shared/` beside the repository clone (/work/shared here, CI likewise).
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const data = join(repoRoot, '..', 'shared', 'data');
const has = existsSync(join(data, 'gsm8k', 'test.jsonl'));

describe.skipIf(!has)('shared data (skipped: ../shared/data is not beside the repository)', () => {
  it('GSM8K: 7473/1319; every test gold is judged right against itself and its solution', async () => {
    const task = getTask('gsm8k', { path: join(data, 'gsm8k') });
    expect((await task.load('train')).length).toBe(7473);
    const test = await task.load('test');
    expect(test.length).toBe(1319);
    const bad: string[] = [];
    for (const p of test) {
      if (!task.isCorrect(p.answer, p)) bad.push(`self ${p.id}`);
      const gold = task.goldCompletion(p)!;
      if (gold.includes('<<') || gold.includes('####')) bad.push(`annotations left in ${p.id}`);
      if (!task.isCorrect(task.extractAnswer(gold), p)) bad.push(`gold completion ${p.id}`);
    }
    expect(bad).toEqual([]);
    expect(test.filter((p) => p.answer.startsWith('-')).length).toBe(2);
    // "2,125" in the data is read as 2125.
    expect(test.some((p) => /#### \d+,\d{3}/.test(p.solution!) && !p.answer.includes(','))).toBe(true);
  });

  it('MATH tree: 7500/5000; every test boxed answer is equivalent to itself', async () => {
    const task = getTask('math', { path: join(data, 'math', 'MATH') });
    const train = await task.load('train');
    const test = await task.load('test');
    expect([train.length, test.length]).toEqual([7500, 5000]);
    const bad = test.filter((p) => !task.isCorrect(p.answer, p) || !task.isCorrect(task.extractAnswer(task.goldCompletion(p)!), p));
    expect(bad.map((p) => `${p.id}: ${p.answer}`)).toEqual([]);
    // A vote key never joins answers the checker tells apart: each gold is equivalent to its key.
    const loose = test.filter((p) => !mathEquiv(p.answer, mathAnswerKey(p.answer)));
    expect(loose.map((p) => `${p.id}: ${p.answer} → ${mathAnswerKey(p.answer)}`)).toEqual([]);
    // ...and golds that share a key are equivalent to one another.
    const byKey = new Map<string, string>();
    const clash: string[] = [];
    for (const p of test) {
      const key = mathAnswerKey(p.answer);
      const first = byKey.get(key);
      if (first === undefined) byKey.set(key, p.answer);
      else if (!mathEquiv(first, p.answer)) clash.push(`${first} / ${p.answer} → ${key}`);
    }
    expect(clash).toEqual([]);
    expect(byKey.size).toBeGreaterThan(1000);
    // The 4-shot exemplars are training problems, and none is a test problem.
    const trainQs = new Set(train.map((p) => p.question));
    const testQs = new Set(test.map((p) => p.question));
    for (const e of MATH_EXEMPLARS) {
      expect(trainQs.has(e.problem)).toBe(true);
      expect(testQs.has(e.problem)).toBe(false);
      const raw = JSON.parse(await readFile(join(data, 'math', 'MATH', e.file), 'utf8'));
      expect(raw.solution).toBe(e.solution);
    }
  });

  it('MATH-500: 500; the boxed answer in each solution agrees with its answer field', async () => {
    const task = getTask('math500', { path: join(data, 'math') });
    const test = await task.load('test');
    expect(test.length).toBe(500);
    const disagree: string[] = [];
    for (const p of test) {
      expect(task.isCorrect(p.answer, p)).toBe(true);
      const boxed = lastBoxed(p.solution!);
      if (!mathEquiv(boxed, p.answer)) disagree.push(`${p.id}: boxed ${JSON.stringify(boxed)} vs answer ${JSON.stringify(p.answer)}`);
    }
    expect(disagree).toEqual(MATH500_DISAGREEMENTS);
  });

  it('ARC-Challenge: 1119/299/1172; every gold key resolves through choices[].label', async () => {
    const task = getTask('arc', { path: join(data, 'arc', 'ARC-Challenge') });
    const counts: number[] = [];
    for (const split of ['train', 'dev', 'test'] as Split[]) {
      const ps = await task.load(split);
      counts.push(ps.length);
      for (const p of ps) {
        const i = p.choices!.findIndex((c) => c.label === p.answer);
        const letter = 'ABCDE'[i];
        if (!task.isCorrect(p.answer, p) || !task.isCorrect(task.extractAnswer(`Final answer: (${letter})`), p)) {
          throw new Error(`${p.id} gold ${p.answer} not judged correct`);
        }
        if (task.isCorrect(task.extractAnswer(`Final answer: ${'ABCDE'[(i + 1) % p.choices!.length]}`), p))
          throw new Error(`${p.id} wrong letter accepted`);
      }
    }
    expect(counts).toEqual([1119, 299, 1172]);
    const test = await task.load('test');
    expect(test.filter((p) => p.meta!.labels === 'numeric').length).toBe(22);
  });
});

/**
 * MATH-500 problems whose `answer` field is not equivalent, under our checker, to the last
 * \boxed{} of their own solution, each with the reason.
 */
const MATH500_DISAGREEMENTS: string[] = [];
