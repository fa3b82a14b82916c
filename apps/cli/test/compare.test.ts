import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { irpo } from './irpo-bin.js';
import { tinyModel } from './tiny-model.js';

describe('irpo run --compare', () => {
  it('runs the chosen methods from one M0, prints the method × iteration table, and resumes without redoing them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-cli-compare-'));
    await tinyModel(join(root, 'm0'));
    const cfg = join(root, 'run.yaml');
    await writeFile(
      cfg,
      [
        `model: ${join(root, 'm0')}`,
        'backend: wasm',
        'iterations: 2',
        'task: { name: arith, trainLimit: 6, testLimit: 4, goldAsWinner: true }',
        // The random model's samples are all cut off at 8 tokens: keep them as losers against gold winners.
        'iteration: { n: 2, k: 2, maxNewTokens: 8, temperature: 1, dropTruncated: false }',
        'training: { lr: 0.001, batchSize: 4 }',
        'eval: { maxNewTokens: 8 }',
      ].join('\n'),
    );
    const out = join(root, 'cmp');
    const r = irpo('run', cfg, '--compare', '--methods', 'irpo,zero-shot,sft-gold', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { rows: { method: string; iteration: number; greedy: { total: number } }[]; files: string[] };
    // Table order, whatever the order asked for.
    expect(result.rows.map((x) => `${x.method}@${x.iteration}`)).toEqual(['zero-shot@0', 'sft-gold@1', 'sft-gold@2', 'irpo@1', 'irpo@2']);
    for (const row of result.rows) expect(row.greedy.total).toBe(4);
    expect(result.files).toEqual([join(out, 'compare.md'), join(out, 'compare.html'), join(out, 'compare.json')]);
    expect(existsSync(join(out, 'dpo'))).toBe(false);

    // A rerun finds every stage done: it prints the same table and trains nothing.
    const again = irpo('run', cfg, '--compare', '--methods', 'irpo,zero-shot,sft-gold', '--out', out);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/\n {2}SFT on gold CoTs {2}\s+2 {2}\s*\d+\.\d% {2}\[/);
    expect(again.stdout).toContain(`Table: ${join(out, 'compare.md')}`);
    expect(again.stderr).not.toMatch(/training|sampling/);

    expect(irpo('run', cfg, '--compare', '--methods', 'irpo,rlhf', '--out', out).code).toBe(2);
    expect(irpo('run', cfg, '--methods', 'irpo', '--out', out).code).toBe(2);
  }, 300_000);
});
