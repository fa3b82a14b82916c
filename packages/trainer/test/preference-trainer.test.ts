import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlAll, TrainStepMetricsSchema } from '@irpo/contracts';
import { initBackend, tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainPreference } from '../src/preference-trainer.js';
import { NonFiniteLossError } from '../src/train-loop.js';
import { bigramModel, charTokenizer, sgd, trainingConfig, flatRef, toyPairs } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const pairs = toyPairs();
const zeroRef = flatRef(pairs);

async function run(dir: string, over: { steps?: number; crashAt?: number } = {}) {
  const model = bigramModel(3);
  const training = trainingConfig({ lr: 0.5, batchSize: 4, checkpointEvery: 2, maxGradNorm: 0 });
  let steps = 0;
  try {
    await trainPreference(model, charTokenizer, pairs, zeroRef, {
      training,
      epochs: 3,
      maxSteps: over.steps ?? null,
      seed: 5,
      logFile: join(dir, 'train-log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
      onStep: (_m, step) => {
        steps = step;
        if (over.crashAt !== undefined && step === over.crashAt) throw new Error('simulated crash');
      },
    });
  } catch (e) {
    if ((e as Error).message !== 'simulated crash') throw e;
  }
  const weights = Array.from(await model.variables.get('lm.weight')!.data());
  model.dispose();
  return { weights, steps };
}

describe('trainPreference', () => {
  it('lowers the loss and logs schema-valid metrics', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    await run(dir);
    const log = await readJsonlAll(join(dir, 'train-log.jsonl'), TrainStepMetricsSchema);
    expect(log).toHaveLength(6); // 8 pairs / 4 per batch × 3 epochs
    expect(log[5]!.loss).toBeLessThan(log[0]!.loss);
    expect(log[5]!['rewards/margins']).toBeGreaterThan(log[0]!['rewards/margins']);
    expect(log.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('resumes after a crash to the same weights and log as an uninterrupted run', async () => {
    const a = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    const b = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    const whole = await run(a);
    await run(b, { crashAt: 3 }); // checkpoint at step 2; step 3 logged, then crash
    const resumed = await run(b);
    expect(resumed.weights).toEqual(whole.weights);
    const strip = (s: string) =>
      s
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const r = JSON.parse(l) as Record<string, unknown>;
          delete r.tokens_per_s;
          return r;
        });
    expect(strip(await readFile(join(b, 'train-log.jsonl'), 'utf8'))).toEqual(strip(await readFile(join(a, 'train-log.jsonl'), 'utf8')));
  });

  it('stops on a non-finite loss with a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    const bad = new Map(zeroRef);
    bad.set('p0', { ...zeroRef.get('p0')!, chosen: Number.NaN });
    const model = bigramModel(4);
    const err = await trainPreference(model, charTokenizer, pairs, bad, {
      training: trainingConfig({ lr: 0.1, batchSize: 8 }),
      epochs: 1,
      maxSteps: null,
      seed: 1,
      logFile: join(dir, 'log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/loss became NaN at step 1/);
    model.dispose();
  });

  it('does not leak tensors across steps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    const model = bigramModel(6);
    const counts: number[] = [];
    await trainPreference(model, charTokenizer, pairs, zeroRef, {
      training: trainingConfig({ lr: 0.1, batchSize: 2, gradAccum: 2, maxGradNorm: 1 }),
      epochs: 4,
      maxSteps: null,
      seed: 1,
      logFile: join(dir, 'log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    expect(counts.length).toBe(8);
    expect(new Set(counts.slice(1)).size).toBe(1);
    model.dispose();
  });

  it('training.gradientCheckpointing: on for the model while it trains, restored after; a model without it is a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-pref-'));
    const options = (training: ReturnType<typeof trainingConfig>) => ({
      training,
      epochs: 1,
      maxSteps: null,
      seed: 5,
      logFile: join(dir, 'train-log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
    });
    const model = Object.assign(bigramModel(3), { gradientCheckpointing: false });
    const seen: boolean[] = [];
    const forward = model.forward.bind(model);
    model.forward = (ids, mask) => {
      seen.push(model.gradientCheckpointing);
      return forward(ids, mask);
    };
    await trainPreference(model, charTokenizer, pairs, zeroRef, options(trainingConfig({ batchSize: 4, gradientCheckpointing: true })));
    expect(seen).toEqual([true, true]); // 8 pairs / 4 per batch, one epoch
    expect(model.gradientCheckpointing).toBe(false);
    model.dispose();
    const plain = bigramModel(3);
    await expect(
      trainPreference(plain, charTokenizer, pairs, zeroRef, {
        ...options(trainingConfig({ gradientCheckpointing: true })),
        logFile: join(dir, 'other.jsonl'),
        checkpointDir: join(dir, 'ckpt2'),
      }),
    ).rejects.toThrow('training.gradientCheckpointing: this model cannot recompute its activations');
    plain.dispose();
  });
});
