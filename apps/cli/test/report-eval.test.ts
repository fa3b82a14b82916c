import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { irpo } from './irpo-bin.js';

const fixtures = fileURLToPath(new URL('../../../packages/evaluator/test/fixtures', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'irpo-cli-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('irpo report', () => {
  it('writes the report and, with --compare, the comparison; --json lists them', () => {
    const run = join(tmp, 'run-basic');
    cpSync(join(fixtures, 'run-basic'), run, { recursive: true });
    const r = irpo('report', run, '--compare', join(fixtures, 'run-dpo'), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { files: string[]; comparison: { run: string; loss: string }[] };
    expect(out.comparison.map((c) => c.loss)).toEqual(['dpo-nll', 'dpo']);
    for (const f of ['report.md', 'report.html', 'report.svg', 'comparison.md', 'comparison.json']) {
      expect(out.files).toContain(join(run, f));
      expect(existsSync(join(run, f))).toBe(true);
    }
    expect(readFileSync(join(run, 'comparison.md'), 'utf8')).toContain('| run-dpo | dpo |');
  });

  it('a missing run directory is one line and exit 1', () => {
    const r = irpo('report', join(tmp, 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not a readable run directory');
  });
});

describe('irpo eval --samples', () => {
  const sample = (problemId: string, index: number, answer: string | null, correct: boolean, temperature: number) =>
    JSON.stringify({ problemId, index, prompt: 'Q', completion: 'A', answer, correct, tokens: 3, finishReason: 'stop', temperature });

  it('scores a samples file into eval.json and eval.md; --json prints the report', () => {
    const dir = join(tmp, 'eval');
    const file = join(dir, 'samples.jsonl');
    cpSync(join(fixtures, 'run-basic', 'run.json'), join(dir, 'run.json'));
    // Greedy: p1 ✓, p2 ✗ → 1/2. Draws: p1 5✓ 5✓ 6✗ → ✓; p2 null, 4✗, 2✓ → tie 4 (earlier) ✗ → maj@3 1/2.
    writeFileSync(
      file,
      [
        sample('p1', 0, '5', true, 0),
        sample('p1', 1, '5', true, 1),
        sample('p1', 2, '5', true, 1),
        sample('p1', 3, '6', false, 1),
        sample('p2', 0, '3', false, 0),
        sample('p2', 1, null, false, 1),
        sample('p2', 2, '4', false, 1),
        sample('p2', 3, '2', true, 1),
      ].join('\n') + '\n',
    );
    const r = irpo('eval', '--samples', file, '--task', 'arith', '--model', 'demo', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      greedy: { correct: number };
      maj: Record<string, { correct: number }>;
      pass: Record<string, number>;
      model: string;
    };
    expect(report.model).toBe('demo');
    expect(report.greedy.correct).toBe(1);
    expect(report.maj['3']!.correct).toBe(1);
    // pass@1 = (2/3 + 1/3) / 2.
    expect(report.pass['1']).toBeCloseTo(0.5, 12);
    expect(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(join(dir, 'eval.md'), 'utf8')).toContain('| greedy | 50.0% [');
  });

  it('exits 2 without --samples and with a bad line', () => {
    expect(irpo('eval', '--task', 'arith').code).toBe(2);
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"problemId":"p"}\n');
    const r = irpo('eval', '--samples', bad, '--task', 'arith');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:1: /);
  });
});
