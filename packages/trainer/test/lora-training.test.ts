import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSpecSchema } from '@irpo/contracts';
import { AdamW, initBackend, tf } from '@irpo/core';
import { createModel, readSafetensors, type LlamaModel } from '@irpo/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainPreference } from '../src/preference-trainer.js';
import { charTokenizer, trainingConfig, flatRef, toyPairs } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const spec = ModelSpecSchema.parse({
  vocabSize: 30,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositions: 64,
  tieWordEmbeddings: true,
});

const pairs = toyPairs();
const ref = flatRef(pairs);

const LORA_NAMES = [0, 1].flatMap((l) =>
  ['q_proj', 'v_proj'].flatMap((m) => ['A', 'B'].map((ab) => `base_model.model.model.layers.${l}.self_attn.${m}.lora_${ab}.weight`)),
);

/**
 * Dropout 0: the model numbers its dropout masks by forward calls since attachLora, so a resumed
 * run draws other masks than an uninterrupted one; without dropout the two must agree exactly.
 */
function adapted(dropout = 0): LlamaModel {
  const model = createModel(spec, { seed: 1, initStd: 0.3 });
  model.attachLora({ r: 4, alpha: 8, dropout, targetModules: ['q_proj', 'v_proj'] }, { seed: 3 });
  return model;
}

async function values(vars: Map<string, tf.Variable>): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, v] of vars) out.set(k, Array.from(await v.data()));
  return out;
}

async function train(model: LlamaModel, dir: string, crashAt?: number): Promise<boolean[]> {
  const seen: boolean[] = [];
  try {
    await trainPreference(model, charTokenizer, pairs, ref, {
      training: trainingConfig({ lr: 1e-2, batchSize: 4, checkpointEvery: 1, maxGradNorm: 1 }),
      epochs: 2, // 4 optimiser steps
      maxSteps: null,
      seed: 5,
      logFile: join(dir, 'train-log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: new AdamW({ weightDecay: 0.1 }),
      onStep: (_m, step) => {
        seen.push(model.training);
        if (step === crashAt) throw new Error('simulated crash');
      },
    });
  } catch (e) {
    if ((e as Error).message !== 'simulated crash') throw e;
  }
  return seen;
}

describe('preference training with a LoRA adapter attached', () => {
  it('updates only A and B, in training mode; the resume checkpoint holds only them and resumes to the same adapter', async () => {
    const model = adapted();
    expect([...model.trainableVariables.keys()].sort()).toEqual([...LORA_NAMES].sort());
    const base0 = await values(model.variables);
    const lora0 = await values(model.trainableVariables);
    const dir = await mkdtemp(join(tmpdir(), 'irpo-lora-'));
    const seen = await train(model, dir);
    expect(seen).toEqual([true, true, true, true]);
    expect(model.training).toBe(false);
    // The base is frozen: bit-identical, weight decay included.
    expect(await values(model.variables)).toEqual(base0);
    const lora1 = await values(model.trainableVariables);
    for (const name of LORA_NAMES) {
      const before = lora0.get(name)!;
      const after = lora1.get(name)!;
      if (name.includes('lora_B')) expect(before.every((x) => x === 0)).toBe(true);
      expect(
        after.some((x, i) => x !== before[i]),
        name,
      ).toBe(true);
    }

    // A run that crashes after step 3 (last resume checkpoint: step 2) and resumes in a fresh process.
    const crashDir = await mkdtemp(join(tmpdir(), 'irpo-lora-'));
    const crashed = adapted();
    await train(crashed, crashDir, 3);
    crashed.dispose();
    const pointer = JSON.parse(await readFile(join(crashDir, 'ckpt', 'checkpoint.json'), 'utf8')) as { dir: string; step: number };
    expect(pointer.step).toBe(2);
    const weights = await readSafetensors(join(crashDir, 'ckpt', pointer.dir, 'weights.safetensors'));
    expect([...weights.keys()].sort()).toEqual([...LORA_NAMES].sort());
    const moments = await readSafetensors(join(crashDir, 'ckpt', pointer.dir, 'optimizer.safetensors'));
    expect([...moments.keys()].sort()).toEqual(LORA_NAMES.flatMap((n) => [`${n}.exp_avg`, `${n}.exp_avg_sq`]).sort());

    const resumed = adapted();
    const seenResumed = await train(resumed, crashDir);
    expect(seenResumed).toEqual([true, true]); // steps 3 and 4 only
    expect(await values(resumed.trainableVariables)).toEqual(lora1);
    expect(await values(resumed.variables)).toEqual(base0);
    model.dispose();
    resumed.dispose();
  });
});
