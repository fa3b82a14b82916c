import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, ModelSpecSchema, type ModelSpec } from '@irpo/contracts';
import type { z } from 'zod';
import { createModel } from '../llama/create-model.js';
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

/**
 * A random-weight model of a small shape in Hugging Face layout, for smoke tests of a pipeline
 * with a real tokenizer: 16 wide, one layer, tied head, the tokenizer's vocabulary, unless
 * `shape` says otherwise. Returns `dir`.
 */
export async function saveRandomModel(
  dir: string,
  tokenizer: SavableTokenizer,
  shape: Partial<z.input<typeof ModelSpecSchema>> = {},
  options: { seed?: number } = {},
): Promise<string> {
  const spec = ModelSpecSchema.parse({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    maxPositions: 256,
    tieWordEmbeddings: true,
    ...shape,
  });
  const model = createModel(spec, { seed: options.seed ?? 1 });
  try {
    await mkdir(dir, { recursive: true });
    await saveModel(dir, model, tokenizer);
  } finally {
    model.dispose();
  }
  return dir;
}
