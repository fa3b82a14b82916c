import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelSpecSchema, RunConfigSchema, type RunConfig, type RunConfigInput } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { ARITH_CHARSET } from '@irpo/data';
import { CharTokenizer, createModel, saveModel } from '@irpo/model';

/** A random tiny model folder (M0): its samples are noise, so pairs come from gold winners. */
export async function makeTinyModel(dir: string, seed = 1): Promise<string> {
  await initBackend('wasm');
  const tokenizer = new CharTokenizer(ARITH_CHARSET);
  const spec = ModelSpecSchema.parse({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    maxPositions: 256,
    tieWordEmbeddings: true,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: 0,
  });
  const model = createModel(spec, { seed });
  await mkdir(dir, { recursive: true });
  await saveModel(dir, model, tokenizer);
  model.dispose();
  return dir;
}

/** Two iterations over 8 prompts: seconds on wasm. */
export function tinyConfig(modelDir: string, over: RunConfigInput = {}): RunConfig {
  return RunConfigSchema.parse({
    name: 'tiny',
    seed: 3,
    model: modelDir,
    backend: 'wasm',
    task: { name: 'arith', trainLimit: 8, testLimit: 6, goldAsWinner: true },
    iterations: 2,
    iteration: { n: 3, k: 2, temperature: 1, maxNewTokens: 16, epochs: 2 },
    training: { lr: 3e-3, batchSize: 4, checkpointEvery: 2, maxGradNorm: 1 },
    eval: { maxNewTokens: 16 },
    engine: { batchSize: 16 },
    ...over,
  });
}

export const runDirOf = (root: string, name: string) => join(root, name);
