import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@irpo/contracts';
import { initBackend, tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainPreference } from '../src/preference-trainer.js';
import { readResumeCheckpoint, writeResumeCheckpoint } from '../src/resume-checkpoint.js';
import { bigramModel, charTokenizer, sgd, trainingConfig, flatRef, toyPairs } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const pairs = toyPairs(false);
const ref = flatRef(pairs);

describe('resume checkpoint', () => {
  it('round-trips weights, optimiser step and the step it was taken after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-resume-'));
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]), true, `w_${Math.random()}`);
    const optimizer = { ...sgd(), getState: () => ({ step: 7, tensors: {} }) };
    await writeResumeCheckpoint(dir, 4, new Map([['w', w]]), optimizer);
    await writeResumeCheckpoint(dir, 6, new Map([['w', w]]), optimizer);
    expect(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({
      v: 1,
      dir: 'step-000006',
      step: 6,
      optimizerStep: 7,
    });
    expect(existsSync(join(dir, 'step-000004'))).toBe(false); // the older snapshot is gone

    const back = tf.variable(tf.zeros([2, 2]), true, `back_${Math.random()}`);
    let restoredStep = -1;
    const target = {
      ...sgd(),
      setState: (s: { step: number }) => {
        restoredStep = s.step;
      },
    };
    const got = await readResumeCheckpoint(dir, new Map([['w', back]]), target);
    expect(got?.step).toBe(6);
    expect(got?.snapshot).toBe(join(dir, 'step-000006'));
    expect(restoredStep).toBe(7);
    expect(Array.from(await back.data())).toEqual([1, 2, 3, 4]);
    expect(await readResumeCheckpoint(join(dir, 'none'), new Map([['w', back]]), target)).toBeUndefined();
    tf.dispose([w, back]);
  });

  it('a checkpoint.json without `step` stops the resume with an error naming the file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-resume-'));
    const options = (onStep?: (m: unknown, step: number) => void) => ({
      training: trainingConfig({ lr: 0.5, batchSize: 4, checkpointEvery: 2, maxGradNorm: 0 }),
      epochs: 3,
      maxSteps: null,
      seed: 5,
      logFile: join(dir, 'train-log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
      onStep,
    });
    const model = bigramModel(3);
    // Crash after step 3: the resume checkpoint of step 2 stays behind.
    await expect(
      trainPreference(
        model,
        charTokenizer,
        pairs,
        ref,
        options((_m, step) => {
          if (step === 3) throw new Error('simulated crash');
        }),
      ),
    ).rejects.toThrow('simulated crash');
    const pointer = join(dir, 'ckpt', 'checkpoint.json');
    const meta = JSON.parse(await readFile(pointer, 'utf8')) as Record<string, unknown>;
    expect(meta.step).toBe(2);
    delete meta.step;
    await writeFile(pointer, JSON.stringify(meta));

    const err = await trainPreference(model, charTokenizer, pairs, ref, options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(pointer);
    expect((err as InputError).field).toBe('step');
    expect((err as Error).message).toContain(`${pointer}: step: `);
    model.dispose();
  });
});
