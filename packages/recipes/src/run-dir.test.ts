import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstDifference, RunDir } from './run-dir.js';

describe('RunDir', () => {
  it('persists completed stages across opens', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-run-'));
    const a = await RunDir.open(root);
    await a.markDone(1, 'samples');
    await a.markDone(1, 'pairs');
    const b = await RunDir.open(root);
    expect(b.isDone(1, 'samples')).toBe(true);
    expect(b.isDone(1, 'train')).toBe(false);
    expect(b.doneStages(1)).toEqual(['samples', 'pairs']);
    const state = JSON.parse(await readFile(join(root, 'state.json'), 'utf8')) as { v: number };
    expect(state.v).toBe(1);
  });

  it('refuses to continue a run with a different config, naming the field', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-run-'));
    const dir = await RunDir.open(root);
    await dir.writeRunJson({ config: { seed: 1, training: { beta: 0.1 } } });
    await dir.writeRunJson({ config: { seed: 1, training: { beta: 0.1 } } });
    await expect(dir.writeRunJson({ config: { seed: 1, training: { beta: 0.2 } } })).rejects.toThrow('config.training.beta');
  });

  it('firstDifference finds nested differences', () => {
    expect(firstDifference({ a: [1, 2] }, { a: [1, 3] })).toBe('a.1');
    expect(firstDifference({ a: 1 }, { a: 1 })).toBeNull();
  });
});
