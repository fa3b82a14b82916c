import { join } from 'node:path';
import { InputError, type ModelSpec } from '@irpo/contracts';
import type { LlamaModel } from '../llama/llama-model.js';
import { loadTokenizer, saveTokenizer } from '../tokenizer/load-tokenizer.js';
import type { SavableTokenizer } from '../tokenizer/tokenizer.js';
import { loadCheckpoint, saveCheckpoint, type SaveCheckpointOptions } from './checkpoint.js';

export interface LoadedModel {
  model: LlamaModel;
  tokenizer: SavableTokenizer;
  spec: ModelSpec;
}

/** A Hugging Face model directory: config.json, safetensors weights, tokenizer.json. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const tokenizer = await loadTokenizer(dir);
  const { model, spec } = await loadCheckpoint(dir);
  if (tokenizer.vocabSize > spec.vocabSize) {
    model.dispose();
    throw new InputError(
      join(dir, 'tokenizer.json'),
      undefined,
      undefined,
      `tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${spec.vocabSize}`,
    );
  }
  return { model, tokenizer, spec };
}

/** Writes config.json, model.safetensors (F32 default, or BF16) and the tokenizer files into `dir`. */
export async function saveModel(
  dir: string,
  model: LlamaModel,
  tokenizer: SavableTokenizer,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  await saveTokenizer(dir, tokenizer);
  await saveCheckpoint(dir, model, options);
}
