import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { irpo } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';

const shared = fileURLToPath(new URL('../../../../shared/data', import.meta.url));

describe('irpo data inspect', () => {
  it('summarises the built-in arith task as JSON', () => {
    const r = irpo('data', 'inspect', 'arith', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ train: 2000, test: 200, dev: 200 });
    expect(report.samplePrompt).toMatch(/^Q: .+\nA: $/);
    expect(report.answers.goldSelfCheck.judgedCorrect).toBe(200);
    expect(report.answers.maxPromptChars).toBeLessThanOrEqual(120);
  });

  it('prints a human summary with a sample prompt', () => {
    const r = irpo('data', 'inspect', 'arith', '--split', 'train', '--limit', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('task arith (train 20, test 20, dev 20)');
    expect(r.stdout).toContain('--- sample prompt ---');
  });

  it.skipIf(!existsSync(join(shared, 'gsm8k')))('reads GSM8K from --path', () => {
    const r = irpo('data', 'inspect', 'gsm8k', '--path', join(shared, 'gsm8k'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ train: 7473, test: 1319, dev: null });
    expect(report.answers.goldSelfCheck).toEqual({ withGold: 1319, judgedCorrect: 1319 });
  });

  it('fails with one line naming the path when the data is missing', () => {
    const r = irpo('data', 'inspect', 'gsm8k', '--path', '/nonexistent/gsm8k');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/gsm8k');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on an unknown task', () => {
    expect(irpo('data', 'inspect', 'nope').code).toBe(2);
  });
});
