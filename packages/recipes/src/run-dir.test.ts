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

  it('accepts engine changes and more iterations on resume, recording them; refuses fewer iterations and other fields', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-run-'));
    const dir = await RunDir.open(root);
    const base = { seed: 1, iterations: 2, engine: { kind: 'local', batchSize: 32 }, training: { beta: 0.1 } };
    await dir.writeRunJson({ config: base, backend: 'wasm' });
    const moved = { ...base, iterations: 3, engine: { kind: 'http', endpoints: ['http://127.0.0.1:8000/v1'], batchSize: 32 } };
    await dir.writeRunJson({ config: moved, backend: 'wasm' });
    const runJson = JSON.parse(await readFile(join(root, 'run.json'), 'utf8')) as {
      config: unknown;
      backend: string;
      changes: { field: string; from: unknown; to: unknown }[];
    };
    expect(runJson.config).toEqual(moved);
    expect(runJson.backend).toBe('wasm');
    expect(runJson.changes.map(({ field, from, to }) => ({ field, from, to }))).toEqual([
      { field: 'engine.endpoints', from: undefined, to: ['http://127.0.0.1:8000/v1'] },
      { field: 'engine.kind', from: 'local', to: 'http' },
      { field: 'iterations', from: 2, to: 3 },
    ]);
    await dir.writeRunJson({ config: moved }); // the same again: nothing to record
    const again = JSON.parse(await readFile(join(root, 'run.json'), 'utf8')) as { changes: unknown[] };
    expect(again.changes).toHaveLength(3);
    await expect(dir.writeRunJson({ config: { ...moved, iterations: 2 } })).rejects.toThrow(/config\.iterations.*may only grow: 3 → 2/);
    await expect(dir.writeRunJson({ config: { ...moved, seed: 2 } })).rejects.toThrow('config.seed');
    // a refused change among accepted ones writes nothing
    await expect(dir.writeRunJson({ config: { ...moved, engine: { kind: 'local' }, training: { beta: 0.5 } } })).rejects.toThrow(
      'config.training.beta',
    );
    expect(JSON.parse(await readFile(join(root, 'run.json'), 'utf8'))).toEqual(again);
  });

  it('remembers which model static endpoints serve', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-run-'));
    const a = await RunDir.open(root);
    expect(a.served).toBeUndefined();
    await a.recordServed('/runs/x/iter-1/model');
    expect((await RunDir.open(root)).served).toBe('/runs/x/iter-1/model');
  });

  it('firstDifference finds nested differences', () => {
    expect(firstDifference({ a: [1, 2] }, { a: [1, 3] })).toBe('a.1');
    expect(firstDifference({ a: 1 }, { a: 1 })).toBeNull();
  });
});
