import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { hashWeights } from '../src/model-slot.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const child = fileURLToPath(new URL('./run-child.ts', import.meta.url));

/**
 * Runs the recipe in a child; with `stopAt` (`<stage label>:<count>`, see run-child.ts), the child
 * stops inside that stage of iteration 1 and is SIGKILLed there: the resolved `stopped` line says where.
 */
function runChild(configFile: string, out: string, stopAt?: string): Promise<{ code: number | null; stopped?: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--conditions=@irpo/source', '--import', loader, child, configFile, out, ...(stopAt ? [stopAt] : [])],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/^stopped .*\n/m.test(stdout)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      const stopped = /^stopped (.*)$/m.exec(stdout)?.[1];
      if (stopAt && (signal !== 'SIGKILL' || !stopped))
        reject(new Error(`the run did not stop at ${stopAt} (exit ${code}, ${signal}): ${stderr}`));
      else resolve({ code, stopped, stderr });
    });
  });
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);
const done = (out: string, stage: string) => {
  const f = join(out, 'state.json');
  if (!existsSync(f)) return false;
  return ((JSON.parse(readFileSync(f, 'utf8')) as { iterations: Record<string, { done: string[] }> }).iterations['1']?.done ?? []).includes(
    stage,
  );
};

/**
 * Mid-stage kill points of iteration 1: where the child stops (progress label and count), the
 * progress line it prints there, and what is then on disk: the stage has written part of its
 * output and is not marked done.
 */
const killPoints: { stage: string; stopAt: string; stopped: RegExp; check: (out: string) => void }[] = [
  {
    stage: 'sampling',
    stopAt: 'sampling:16', // after the first engine batch: 4 problems × 4 samples
    stopped: /^iter 1\/2 · sampling 16\/96$/,
    check: (out) => {
      expect(lines(join(out, 'iter-1/samples.jsonl'))).toBe(16);
      expect(done(out, 'samples')).toBe(false);
    },
  },
  {
    stage: 'ref log-probs',
    stopAt: 'reference log-probs:1',
    stopped: /^iter 1\/2 · reference log-probs (\d+)\/(\d+)$/,
    check: (out) => {
      expect(lines(join(out, 'iter-1/ref-logps.jsonl'))).toBeGreaterThan(0);
      expect(done(out, 'samples') && done(out, 'pairs')).toBe(true);
      expect(done(out, 'ref-logps')).toBe(false);
    },
  },
  {
    stage: 'training',
    stopAt: 'training:3', // after step 3: the resume checkpoint is step 2's, the log has 3 lines
    stopped: /^iter 1\/2 · training 3\/\d+$/,
    check: (out) => {
      expect((JSON.parse(readFileSync(join(out, 'iter-1/checkpoint/checkpoint.json'), 'utf8')) as { step: number }).step).toBe(2);
      expect(lines(join(out, 'iter-1/train-log.jsonl'))).toBe(3);
      expect(done(out, 'train')).toBe(false);
    },
  },
  {
    stage: 'eval',
    stopAt: 'eval · greedy:4', // after the first engine batch of 4 test problems
    stopped: /^iter 1 · eval · greedy 4\/12$/,
    check: (out) => {
      expect(statSync(join(out, 'iter-1/eval-greedy.jsonl')).size).toBeGreaterThan(0);
      expect(lines(join(out, 'iter-1/eval-greedy.jsonl'))).toBe(4);
      expect(done(out, 'eval')).toBe(false);
    },
  },
];

async function finalState(out: string) {
  const evalJson = JSON.parse(await readFile(join(out, 'iter-2/eval.json'), 'utf8')) as { greedy: unknown };
  const logs = [1, 2].map((t) =>
    readFileSync(join(out, `iter-${t}/train-log.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l) as Record<string, unknown>;
        delete r.tokens_per_s;
        return r;
      }),
  );
  const m = await loadModel(join(out, 'iter-2/model'));
  const hash = await hashWeights(m.model.variables);
  m.model.dispose();
  const samples = readFileSync(join(out, 'iter-2/samples.jsonl'), 'utf8');
  return { greedy: evalJson.greedy, logs, hash, samples };
}

describe('SIGKILL at each stage, then rerun', () => {
  it('finishes with the same metrics, weights and files as an uninterrupted run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-kill-'));
    const m0 = await makeTinyModel(join(root, 'm0'), 5);
    // Small engine batches so every stage writes in several pieces a kill can fall between.
    const config = tinyConfig(m0, {
      task: { name: 'arith', trainLimit: 24, testLimit: 12, goldAsWinner: true },
      iteration: { n: 4, k: 2, temperature: 1, maxNewTokens: 16, epochs: 2 },
      engine: { batchSize: 4 },
      training: { lr: 3e-3, batchSize: 4, checkpointEvery: 2, maxGradNorm: 1 },
    });
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify(config));

    const whole = join(root, 'whole');
    const w = await runChild(configFile, whole);
    expect(w.code, w.stderr).toBe(0);
    const expected = await finalState(whole);

    for (const { stage, stopAt, stopped, check } of killPoints) {
      const out = join(root, stage.replace(/\W+/g, '-'));
      const first = await runChild(configFile, out, stopAt);
      expect(first.stopped, stage).toMatch(stopped);
      check(out);
      const second = await runChild(configFile, out);
      expect(second.code, second.stderr).toBe(0);
      const got = await finalState(out);
      expect(got.greedy, stage).toEqual(expected.greedy);
      expect(got.logs, stage).toEqual(expected.logs);
      expect(got.hash, stage).toBe(expected.hash);
      expect(got.samples, stage).toBe(expected.samples);
    }
  }, 1_800_000); // nine runs of the recipe: minutes on a loaded 2-core machine
});
