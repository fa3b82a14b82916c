import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { getTask } from '../get-task.js';
import { MATH_EXEMPLARS } from './math-fewshot.js';

const gsm: Problem = {
  v: 1,
  id: 'g',
  question: 'Ann has $5. She earns $3.',
  answer: '8',
  solution: 'Ann has 5 + 3 = <<5+3=8>>8 dollars.\n#### 8',
};
const arc: Problem = {
  v: 1,
  id: 'a',
  question: 'What is ice?',
  answer: 'B',
  choices: [
    { label: 'A', text: 'gas' },
    { label: 'B', text: 'solid' },
  ],
};

describe('prompts', () => {
  it('GSM8K: paper zero-shot prompt and gold completion without calculator notes', () => {
    const task = getTask('gsm8k');
    const prompt = task.prompt(gsm);
    expect(prompt).toContain('please use the format "Final answer: ..."');
    expect(prompt.endsWith('Question: Ann has $5. She earns $3.\n\nSolution:')).toBe(true);
    expect(task.goldCompletion(gsm)).toBe(' Ann has 5 + 3 = 8 dollars.\nFinal answer: 8');
  });

  it('ARC: options as "(A) text"', () => {
    expect(getTask('arc').prompt(arc)).toContain('Question: What is ice?\n\nOptions: (A) gas (B) solid\n\nSolution:');
  });

  it('MATH: 4 fixed exemplars with \\boxed, then the problem ($ kept literally)', () => {
    const p: Problem = { v: 1, id: 'm', question: 'Find $x$ if $2x = $$4$.', answer: '2' };
    const prompt = getTask('math').prompt(p);
    expect(MATH_EXEMPLARS).toHaveLength(4);
    for (const e of MATH_EXEMPLARS) expect(prompt).toContain(`Problem:\n${e.problem}\n\nSolution:\n${e.solution}`);
    expect(prompt.match(/\\boxed/g)!.length).toBeGreaterThanOrEqual(5);
    expect(prompt.endsWith('Problem:\nFind $x$ if $2x = $$4$.\n\nSolution:\n')).toBe(true);
  });

  it('user templates from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-tpl-'));
    const file = join(dir, 't.txt');
    await writeFile(file, 'Q: {question}\nChoices: {choices}\nA:\n');
    expect(getTask('arc', { templateFile: file }).prompt(arc)).toBe('Q: What is ice?\nChoices: (A) gas (B) solid\nA:');
    await writeFile(file, 'no placeholder');
    expect(() => getTask('gsm8k', { templateFile: file })).toThrow(`${file}: template has no {question}`);
    expect(() => getTask('nope')).toThrow(/unknown task "nope"/);
  });
});
