import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTask } from '../get-task.js';

const parquet = fileURLToPath(new URL('../../test/fixtures/gsm8k-tiny.parquet', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpo-data-'));
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, '..'), { recursive: true });
  await writeFile(p, text);
  return p;
}

describe('loaders', () => {
  it('reads a Parquet export (fixture from tools/fixtures/make-tiny-parquet.py)', async () => {
    const task = getTask('gsm8k', { path: parquet });
    const ps = await task.load('test');
    expect(ps.map((p) => p.answer)).toEqual(['7', '1205', '-3']);
    expect(task.goldCompletion(ps[1])).toBe(' 1200 + 5 = 1205.\nFinal answer: 1205');
    expect(await task.load('test', { limit: 2 })).toHaveLength(2);
  });

  it('names file, line and field for bad JSONL', async () => {
    const task = getTask('gsm8k');
    const ok = '{"question":"q","answer":"x\\n#### 3"}';
    const bad = await file('bad.jsonl', `${ok}\n{"question": oops}\n`);
    await expect(task.load('test', { path: bad })).rejects.toThrow(`${bad}:2: not valid JSON`);
    const missing = await file('missing.jsonl', `${ok}\n${ok}\n{"question":"q"}\n`);
    await expect(task.load('test', { path: missing })).rejects.toThrow(`${missing}:3: answer:`);
    const nohash = await file('nohash.jsonl', '{"question":"q","answer":"just 3"}\n');
    await expect(task.load('test', { path: nohash })).rejects.toThrow(`${nohash}:1: answer: no "#### <number>"`);
    await expect(task.load('test')).rejects.toThrow(/no data path/);
    await expect(task.load('dev', { path: bad })).rejects.toThrow(/only train and test/);
  });

  it('finds split files in a directory and says what it looked for', async () => {
    await file('g/train.jsonl', '{"question":"q","answer":"#### 1,000"}\n');
    const task = getTask('gsm8k', { path: join(dir, 'g') });
    expect((await task.load('train'))[0]).toMatchObject({ id: 'gsm8k/train/0', answer: '1000' });
    await expect(task.load('test')).rejects.toThrow(/looked for test\.jsonl/);
  });

  it('reads ARC in the Hugging Face layout (JSONL and JSON array), numeric labels too', async () => {
    const rec = {
      id: 'Q1',
      question: 'Which planet is third?',
      choices: { text: ['Mercury', 'Venus', 'Earth', 'Mars'], label: ['1', '2', '3', '4'] },
      answerKey: '3',
    };
    const jsonl = await file('arc/test.jsonl', JSON.stringify(rec) + '\n');
    await file('arc-json/validation.json', JSON.stringify([rec, { ...rec, id: 'Q2' }]));
    const task = getTask('arc');
    const [p] = await task.load('test', { path: jsonl });
    expect(p).toMatchObject({ id: 'arc/test/Q1', answer: '3', meta: { labels: 'numeric', options: 4 } });
    expect(task.prompt(p)).toContain('Options: (A) Mercury (B) Venus (C) Earth (D) Mars');
    expect(task.isCorrect(task.extractAnswer('Earth is third.\nFinal answer: (C)'), p)).toBe(true);
    expect(task.isCorrect(task.extractAnswer('Final answer: (B)'), p)).toBe(false);
    expect(await task.load('dev', { path: join(dir, 'arc-json') })).toHaveLength(2);
    const badKey = await file('arc-bad.jsonl', JSON.stringify({ ...rec, answerKey: 'C' }) + '\n');
    await expect(task.load('test', { path: badKey })).rejects.toThrow(`${badKey}:1: answerKey: "C" is not one of the labels 1,2,3,4`);
    const badShape = await file(
      'arc-shape.jsonl',
      JSON.stringify({ id: 'x', question: { stem: 'q', choices: [{ text: 'a' }] }, answerKey: 'A' }) + '\n',
    );
    await expect(task.load('test', { path: badShape })).rejects.toThrow(`${badShape}:1:`);
  });

  it('reads MATH from an HF-style export and from the per-problem tree', async () => {
    const rec = { problem: 'What is $1+1$?', level: 'Level 1', type: 'Prealgebra', solution: 'We get $\\boxed{2}$.' };
    const jsonl = await file('math/train.jsonl', JSON.stringify(rec) + '\n');
    const task = getTask('math');
    const [p] = await task.load('train', { path: jsonl });
    expect(p).toMatchObject({ answer: '2', meta: { subject: 'Prealgebra', level: 1 } });
    await file('tree/test/algebra/10.json', JSON.stringify(rec));
    await file('tree/test/algebra/9.json', JSON.stringify({ ...rec, solution: 'So $\\boxed{\\frac12}$.' }));
    const tree = await task.load('test', { path: join(dir, 'tree') });
    expect(tree.map((x) => [x.id, x.answer])).toEqual([
      ['math/test/algebra/9', '\\frac12'],
      ['math/test/algebra/10', '2'],
    ]);
    const broken = await file('tree2/test/geometry/1.json', JSON.stringify({ problem: 'p', solution: 'no box' }));
    await expect(task.load('test', { path: join(dir, 'tree2') })).rejects.toThrow(`${broken}: solution: no \\boxed{}`);
    const noField = await file('tree3/test/geometry/1.json', JSON.stringify({ problem: 'p' }));
    await expect(task.load('test', { path: join(dir, 'tree3') })).rejects.toThrow(`${noField}: solution:`);
  });
});
