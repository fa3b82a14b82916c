import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareMethods, writeComparison, type MethodRun } from './compare-runs.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

/** A supervised run: iteration 1 trained on 3 examples for 2 steps, evaluated as run-dpo's iteration 1 (12/40). */
async function sftRun(root: string): Promise<string> {
  const dir = join(root, 'sft-gold');
  await mkdir(join(dir, 'iter-1'), { recursive: true });
  const ex = (i: number) => JSON.stringify({ v: 1, problemId: `p${i}`, prompt: `Q${i}`, completion: `A${i}`, ended: true });
  await writeFile(join(dir, 'iter-1', 'sft-examples.jsonl'), [ex(1), ex(2), ex(3)].join('\n') + '\n');
  const step = (s: number) => JSON.stringify({ v: 1, step: s, epoch: s / 2, loss: 1, nll: 1, grad_norm: 1, lr: 1e-4, tokens_per_s: 10 });
  await writeFile(join(dir, 'iter-1', 'sft-log.jsonl'), [step(1), step(2)].join('\n') + '\n');
  await copyFile(fixture('run-dpo/iter-1/eval.json'), join(dir, 'iter-1', 'eval.json'));
  return dir;
}

describe('compareMethods', () => {
  it('gives one row per method × iteration with Wilson intervals, data, steps and log-prob drift', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-methods-'));
    const methods: MethodRun[] = [
      { method: 'zero-shot', label: 'Zero-shot', training: 'none', dir: fixture('run-basic'), iterations: [0] },
      { method: 'sft-gold', label: 'SFT on gold', training: 'SFT', dir: await sftRun(root) },
      { method: 'dpo', label: 'Iterative DPO', training: 'DPO', dir: fixture('run-dpo') },
      { method: 'irpo', label: 'Iterative RPO', training: 'DPO+NLL', dir: fixture('run-basic') },
    ];
    const { rows, markdown } = await compareMethods(methods);
    expect(rows.map((r) => [r.method, r.iteration])).toEqual([
      ['zero-shot', 0],
      ['sft-gold', 1],
      ['dpo', 1],
      ['dpo', 2],
      ['irpo', 1],
      ['irpo', 2],
      ['irpo', 3],
    ]);
    // Wilson 95% by hand (z = 1.96): 10/40 → [14.2, 40.2]; 14/40 → [22.1, 50.5]; 17/40 → [28.5, 57.8]; 21/40 → [37.5, 67.1].
    // Drift of run-basic iter-1 (8 steps, quarters of 2): chosen (-41.1476 - 40.2748)/2 = -40.7112 → -37.1855.
    const lines = markdown.split('\n');
    expect(lines[0]).toBe(
      '| Method | Iteration | Trained on | Steps | Greedy [95% CI] | maj@8 [95% CI] | log π(chosen) | log π(rejected) |',
    );
    expect(lines[2]).toBe('| Zero-shot | 0 | – | – | 25.0% [14.2, 40.2] | 35.0% [22.1, 50.5] | – | – |');
    expect(lines[3]).toBe('| SFT on gold | 1 | 3 examples | 2 | 30.0% [18.1, 45.4] | 37.5% [24.2, 53.0] | – | – |');
    expect(lines[6]).toBe(
      '| Iterative RPO | 1 | 24 pairs | 8 | 42.5% [28.5, 57.8] | 52.5% [37.5, 67.1] | -40.71 → -37.19 | -48.72 → -55.33 |',
    );
    // Iteration 3 is still training: pairs and steps, no eval yet.
    expect(lines[8]).toBe('| Iterative RPO | 3 | 33 pairs | 3 | – | – | -31.59 → -30.57 | -65.40 → -67.93 |');
    expect(rows[2]!.drift).toMatchObject({ steps: 8 });
    expect(rows[1]!.drift).toBeNull();
  });

  it('with a dev split, adds the step chosen as M(t) and its dev accuracy (– where a run has none)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-methods-'));
    const sft = await sftRun(root);
    const dev = {
      v: 1,
      problems: 100,
      checkpoints: [
        { step: 1, accuracy: 0.62 },
        { step: 2, accuracy: 0.6 },
      ],
      chosen: 1,
    };
    await writeFile(join(sft, 'iter-1', 'dev.json'), JSON.stringify(dev));
    const { rows, markdown } = await compareMethods([
      { method: 'sft-gold', label: 'SFT on gold', training: 'SFT', dir: sft },
      { method: 'dpo', label: 'Iterative DPO', training: 'DPO', dir: fixture('run-dpo'), iterations: [1] },
    ]);
    expect(rows.map((r) => r.dev)).toEqual([{ chosen: 1, accuracy: 0.62 }, null]);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe(
      '| Method | Iteration | Trained on | Steps | M(t) = step | Dev | Greedy [95% CI] | maj@8 [95% CI] | log π(chosen) | log π(rejected) |',
    );
    expect(lines[2]).toBe('| SFT on gold | 1 | 3 examples | 2 | 1 | 62.0% | 30.0% [18.1, 45.4] | 37.5% [24.2, 53.0] | – | – |');
    expect(lines[3]).toMatch(/^\| Iterative DPO \| 1 \| \d+ pairs \| \d+ \| – \| – \| /);
  });

  it('writes compare.md, compare.json and a self-contained compare.html with every text escaped', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-methods-'));
    const methods: MethodRun[] = [
      {
        method: 'dpo',
        label: 'DPO <α=0> & "no NLL"',
        training: 'pairs <script>alert(1)</script>',
        dir: fixture('run-dpo'),
        iterations: [1],
      },
    ];
    const r = await writeComparison(root, methods, { title: 'arith & <friends>', notes: ['a < b'] });
    expect(r.files).toEqual(['compare.md', 'compare.html', 'compare.json']);
    const html = await readFile(join(root, 'compare.html'), 'utf8');
    expect(html).toContain('<title>arith &amp; &lt;friends&gt;</title>');
    expect(html).toContain(
      '<td>DPO &lt;α=0&gt; &amp; &quot;no NLL&quot;</td><td>1</td><td>24 pairs</td><td>8</td><td>30.0% [18.1, 45.4]</td>',
    );
    expect(html).toContain('pairs &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<li>a &lt; b</li>');
    expect(html).not.toMatch(/<(script|link|img)\b/);
    const md = await readFile(join(root, 'compare.md'), 'utf8');
    expect(md).toContain('| DPO <α=0> & "no NLL" | 1 | 24 pairs | 8 | 30.0% [18.1, 45.4] |');
    const json = JSON.parse(await readFile(join(root, 'compare.json'), 'utf8')) as {
      rows: { method: string; greedy: { correct: number } }[];
    };
    expect(json.rows.map((x) => [x.method, x.greedy.correct])).toEqual([['dpo', 12]]);
  });
});
