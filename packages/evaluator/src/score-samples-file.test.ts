import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSample } from '../test/make-sample.js';
import { evalMarkdown } from './eval-markdown.js';
import { scoreSamplesFile } from './score-samples-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'irpo-score-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const at = (t: number, ...args: Parameters<typeof makeSample>) => ({ ...makeSample(...args), temperature: t });

describe('scoreSamplesFile', () => {
  it('temperature-0 samples are greedy; the rest vote', async () => {
    const file = join(tmp, 'samples.jsonl');
    // p1: greedy ✓; draws 7✓ 7✓ 8✗ → maj ✓, c=2.  p2: greedy ✗; draws 1✗ 2✓ 1✗ → maj ✗, c=1.
    writeFileSync(
      file,
      jsonl([
        at(0, 'p1', 0, '7', true),
        at(0.8, 'p1', 1, '7', true),
        at(0.8, 'p1', 2, '7', true),
        at(0.8, 'p1', 3, '8', false),
        at(0, 'p2', 0, '3', false),
        at(0.8, 'p2', 1, '1', false),
        at(0.8, 'p2', 2, '2', true),
        at(0.8, 'p2', 3, '1', false),
      ]),
    );
    const { report, notes } = await scoreSamplesFile({ samplesFile: file, task: 'arith', model: 'm', createdAt: 'now' });
    expect(report.greedy).toMatchObject({ correct: 1, total: 2 });
    expect(report.maj['3']).toMatchObject({ correct: 1, total: 2 });
    // pass@1 = (2/3 + 1/3)/2 = 0.5; pass@3 = 1 for both (each has a correct draw).
    expect(report.pass['1']).toBeCloseTo(0.5, 12);
    expect(report.pass['3']).toBe(1);
    const md = evalMarkdown(report, notes);
    expect(md).toContain('| maj@3 | 50.0% [');
    expect(md).toContain('| pass@1 | 50.0% | – |');
  });

  it('without temperature-0 samples, sample 0 stands in for greedy and a note says so', async () => {
    const file = join(tmp, 'nogreedy.jsonl');
    writeFileSync(file, jsonl([at(1, 'p1', 0, '7', true), at(1, 'p1', 1, '8', false)]));
    const { report, notes } = await scoreSamplesFile({ samplesFile: file, task: 'arith' });
    expect(report.greedy.correct).toBe(1);
    expect(report.maj['2']!.correct).toBe(1);
    expect(notes.join('\n')).toMatch(/first sample/);
  });

  it('a bad line names the file, line and field', async () => {
    const file = join(tmp, 'bad.jsonl');
    writeFileSync(file, jsonl([at(0, 'p1', 0, '7', true), { ...makeSample('p2', 0, '1', true), correct: 'yes' }]));
    await expect(scoreSamplesFile({ samplesFile: file, task: 'arith' })).rejects.toThrow(/bad\.jsonl:2: correct: /);
  });
});
