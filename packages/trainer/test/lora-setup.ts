// The LoRA preference run of lora-training.test.ts, shared with its child process (lora-child.ts)
// so both build the same model and train it the same way.
import { join } from 'node:path';
import { ModelSpecSchema } from '@irpo/contracts';
import { AdamW, tf } from '@irpo/core';
import { createModel, type LlamaModel } from '@irpo/model';
import { trainPreference } from '../src/preference-trainer.js';
import { charTokenizer, flatRef, toyPairs, trainingConfig } from './fakes.js';

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

export const LORA_NAMES = [0, 1].flatMap((l) =>
  ['q_proj', 'v_proj'].flatMap((m) => ['A', 'B'].map((ab) => `base_model.model.model.layers.${l}.self_attn.${m}.lora_${ab}.weight`)),
);

/**
 * Dropout 0: the model numbers its dropout masks by forward calls since attachLora, so a resumed
 * run draws other masks than an uninterrupted one; without dropout the two must agree exactly.
 */
export function adapted(dropout = 0): LlamaModel {
  const model = createModel(spec, { seed: 1, initStd: 0.3 });
  model.attachLora({ r: 4, alpha: 8, dropout, targetModules: ['q_proj', 'v_proj'] }, { seed: 3 });
  return model;
}

export async function values(vars: Map<string, tf.Variable>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of vars) out[k] = Array.from(await v.data());
  return out;
}

/** 4 optimiser steps (2 epochs of 2 batches), a resume checkpoint after every step, in `dir`. */
export async function trainLora(model: LlamaModel, dir: string, onStep: (step: number) => void | Promise<void>): Promise<void> {
  await trainPreference(model, charTokenizer, pairs, ref, {
    training: trainingConfig({ lr: 1e-2, batchSize: 4, checkpointEvery: 1, maxGradNorm: 1 }),
    epochs: 2,
    maxSteps: null,
    seed: 5,
    logFile: join(dir, 'train-log.jsonl'),
    checkpointDir: join(dir, 'ckpt'),
    optimizer: new AdamW({ weightDecay: 0.1 }),
    onStep: (_m, step) => onStep(step),
  });
}
