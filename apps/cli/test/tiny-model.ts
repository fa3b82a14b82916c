import { mkdir } from 'node:fs/promises';
import { ModelSpecSchema } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { ARITH_CHARSET } from '@irpo/data';
import { CharTokenizer, createModel, saveModel } from '@irpo/model';

/** A random tiny character-level model folder, for commands that need a model. */
export async function tinyModel(dir: string, seed = 1): Promise<string> {
  await initBackend('cpu');
  const tokenizer = new CharTokenizer(ARITH_CHARSET);
  const spec = ModelSpecSchema.parse({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    maxPositions: 256,
    tieWordEmbeddings: true,
    eosTokenId: 2,
  });
  const model = createModel(spec, { seed });
  await mkdir(dir, { recursive: true });
  await saveModel(dir, model, tokenizer);
  model.dispose();
  return dir;
}
