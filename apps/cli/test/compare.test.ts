import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { irpo } from './irpo-bin.js';
import { tinyRunConfig } from './tiny-model.js';

describe('irpo run --compare', () => {
  it('runs the chosen methods from one M0, prints the method × iteration table, and resumes without redoing them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-cli-compare-'));
    const cfg = await tinyRunConfig(root, 2);
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
