import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@irpo/core';
import { ARITH_CHARSET } from '@irpo/data';
import { CharTokenizer, saveRandomModel } from '@irpo/model';

/** A random tiny character-level model folder, for commands that need a model. */
export async function tinyModel(dir: string, seed = 1): Promise<string> {
  await initBackend('cpu');
  return saveRandomModel(dir, new CharTokenizer(ARITH_CHARSET), { eosTokenId: 2 }, { seed });
}

/**
 * A tiny model in `root/m0` and a run config for it in `root/run.yaml` (returned): a few arith
 * problems, 8 new tokens. The random model's samples are all cut off at 8 tokens, so
 * dropTruncated false keeps them as losers against the gold winners.
 */
export async function tinyRunConfig(root: string, iterations: number): Promise<string> {
  await tinyModel(join(root, 'm0'));
  const cfg = join(root, 'run.yaml');
  await writeFile(
    cfg,
    [
      `model: ${join(root, 'm0')}`,
      'backend: wasm',
      `iterations: ${iterations}`,
      'task: { name: arith, trainLimit: 6, testLimit: 4, goldAsWinner: true }',
      'iteration: { n: 2, k: 2, maxNewTokens: 8, temperature: 1, dropTruncated: false }',
      'training: { lr: 0.001, batchSize: 4 }',
      'eval: { maxNewTokens: 8 }',
    ].join('\n'),
  );
  return cfg;
}
