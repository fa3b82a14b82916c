import { join } from 'node:path';
import { RunConfigSchema, type RunConfig, type RunConfigInput } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { ARITH_CHARSET } from '@irpo/data';
import { CharTokenizer, saveRandomModel } from '@irpo/model';

/** A random tiny model folder (M0): its samples are noise, so pairs come from gold winners. */
export async function makeTinyModel(dir: string, seed = 1): Promise<string> {
  await initBackend('wasm');
  const shape = { hiddenSize: 32, intermediateSize: 64, numLayers: 2, bosTokenId: 1, eosTokenId: 2, padTokenId: 0 };
  return saveRandomModel(dir, new CharTokenizer(ARITH_CHARSET), shape, { seed });
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
