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

/** Runs the recipe in a child; with `killWhen`, SIGKILLs it as soon as the condition holds. */
function runChild(
  configFile: string,
  out: string,
  killWhen?: () => boolean,
): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--conditions=@irpo/source', '--import', loader, child, configFile, out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killWhen
      ? setInterval(() => {
          if (!killed && killWhen()) {
            killed = true;
            p.kill('SIGKILL');
          }
        }, 5)
      : undefined;
    p.on('error', reject);
    p.on('exit', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code, killed, stderr });
    });
  });
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);
const done = (out: string, stage: string) => {
  const f = join(out, 'state.json');
  if (!existsSync(f)) return false;
  try {
    return (
      (JSON.parse(readFileSync(f, 'utf8')) as { iterations: Record<string, { done: string[] }> }).iterations['1']?.done.includes(stage) ??
      false
    );
  } catch {
    return false;
  }
};

/** Mid-stage kill points of iteration 1: the stage has written something but is not done. */
const killPoints: Record<string, (out: string) => boolean> = {
  sampling: (out) => lines(join(out, 'iter-1/samples.jsonl')) >= 8 && !done(out, 'samples'),
  'ref log-probs': (out) => lines(join(out, 'iter-1/ref-logps.jsonl')) >= 2 && !done(out, 'ref-logps'),
  training: (out) =>
    existsSync(join(out, 'iter-1/checkpoint/checkpoint.json')) && lines(join(out, 'iter-1/train-log.jsonl')) >= 3 && !done(out, 'train'),
  eval: (out) =>
    existsSync(join(out, 'iter-1/eval-greedy.jsonl')) && statSync(join(out, 'iter-1/eval-greedy.jsonl')).size > 0 && !done(out, 'eval'),
};

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

    for (const [stage, when] of Object.entries(killPoints)) {
      const out = join(root, stage.replace(/\W+/g, '-'));
      const first = await runChild(configFile, out, () => when(out));
      expect(first.killed, `kill during ${stage} did not happen (stderr: ${first.stderr})`).toBe(true);
      const second = await runChild(configFile, out);
      expect(second.code, second.stderr).toBe(0);
      const got = await finalState(out);
      expect(got.greedy, stage).toEqual(expected.greedy);
      expect(got.logs, stage).toEqual(expected.logs);
      expect(got.hash, stage).toBe(expected.hash);
      expect(got.samples, stage).toBe(expected.samples);
    }
  }, 600_000);
});
