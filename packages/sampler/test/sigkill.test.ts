import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonlAll, SampleSchema } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../src/local-engine.js';
import { sampleDataset } from '../src/sample-dataset.js';
import { FakeCharTokenizer, fakeProblems, fakeTask, FakeLM } from '../src/testing/fakes.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const child = fileURLToPath(new URL('./sample-child.ts', import.meta.url));
const OPTIONS = { n: 3, temperature: 1, topP: 0.9, maxNewTokens: 12, seed: 5, batchSize: 2 }; // as sample-child.ts

let dir: string;
beforeAll(async () => {
  await initBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'irpo-sigkill-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Runs the child; resolves with its stdout and exit signal. With `killOn`, SIGKILLs it when that line appears. */
function runChild(
  args: string[],
  killOn?: string,
): Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--conditions=@irpo/source', '--import', loader, child, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (killOn && stdout.includes(killOn)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ stdout, code, signal, stderr }));
  });
}

describe('sampling survives SIGKILL', () => {
  it('a killed run, rerun, holds each (problem, index) once and equals an uninterrupted run', async () => {
    const out = join(dir, 'samples.jsonl');
    const killed = await runChild([out, '2'], 'hanging');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const partial = await readJsonlAll(out, SampleSchema, { tolerateTruncatedTail: true });
    expect(partial).toHaveLength(12); // two calls of 2 problems × 3 samples
    const rerun = await runChild([out]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('done 9');

    const reference = join(dir, 'reference.jsonl');
    const engine = new LocalEngine(new FakeLM(7), new FakeCharTokenizer(), { maxBatchSize: 16 });
    await sampleDataset(fakeProblems(7), fakeTask, engine, { ...OPTIONS, out: reference });
    const text = await readFile(out, 'utf8');
    expect(text).toBe(await readFile(reference, 'utf8'));
    const keys = (await readJsonlAll(out, SampleSchema)).map((s) => `${s.problemId}/${s.index}`);
    expect(new Set(keys).size).toBe(21);
    expect(keys).toHaveLength(21);
  });
});
