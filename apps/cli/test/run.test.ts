import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { irpo } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';
import { tinyRunConfig } from './tiny-model.js';

describe('irpo run / pairs / eval', () => {
  it('runs a configured recipe end to end and prints JSON; pairs and eval work on its files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-cli-run-'));
    const cfg = await tinyRunConfig(root, 1);
    const out = join(root, 'run');
    const r = irpo('run', cfg, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { evals: { greedy: { total: number } }[] };
    expect(result.evals).toHaveLength(2);
    expect(result.evals[1]!.greedy.total).toBe(4);

    const p = irpo(
      'pairs',
      '--samples',
      join(out, 'iter-1/samples.jsonl'),
      '--out',
      join(root, 'pairs.jsonl'),
      '--export',
      'trl',
      '--json',
    );
    expect(p.code, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout) as { files: string[] }).files).toContain(join(root, 'pairs.jsonl.trl.json'));

    const e = irpo(
      'eval',
      '--task',
      'arith',
      '--model',
      join(out, 'iter-1/model'),
      '--limit',
      '3',
      '--max-new-tokens',
      '8',
      '--out',
      join(root, 'ev'),
      '--json',
      '--backend',
      'wasm',
    );
    expect(e.code, e.stderr).toBe(0);
    expect((JSON.parse(e.stdout) as { greedy: { total: number } }).greedy.total).toBe(3);
  }, 180_000);

  it('rejects an unknown config key with the file and key named (exit 2)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-cli-run-'));
    const cfg = join(root, 'bad.yaml');
    await writeFile(cfg, 'training:\n  betta: 0.1\n');
    const r = irpo('run', cfg, '--out', join(root, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cfg}: training.betta: unknown key "betta"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
