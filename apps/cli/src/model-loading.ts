import type { Problem } from '@irpo/contracts';
import type { CausalLM, ChatTemplate, SamplingTask, Tokenizer } from '@irpo/sampler';
import { importExport } from './optional-import.js';

/** What `loadModel` of @irpo/model returns, as far as the sampling commands use it. */
export interface LoadedModel {
  model: CausalLM;
  tokenizer: Tokenizer & { applyChatTemplate?: unknown };
}

export type LoadModel = (dir: string, options?: Record<string, unknown>) => Promise<LoadedModel>;

export interface CliTask extends SamplingTask {
  load(split: 'train' | 'test' | 'dev', options?: { limit?: number; path?: string }): Promise<Problem[]>;
}

// TODO-wire: these resolve once @irpo/model and @irpo/data are merged; the lead checks the shapes.
export async function loadModelFrom(dir: string): Promise<LoadedModel> {
  const { initBackend } = await import('@irpo/core');
  await initBackend();
  const loadModel = await importExport<LoadModel>('@irpo/model', 'loadModel');
  return loadModel(dir);
}

export async function getTaskByName(name: string): Promise<CliTask> {
  const getTask = await importExport<(name: string) => CliTask>('@irpo/data', 'getTask');
  return getTask(name);
}

/** The model's chat template as the server wants it, when the tokenizer has one. */
export function chatTemplateOf(loaded: LoadedModel): ChatTemplate | undefined {
  const apply = loaded.tokenizer.applyChatTemplate;
  if (typeof apply !== 'function') return undefined;
  return (messages, options) => String(apply.call(loaded.tokenizer, messages, options));
}
