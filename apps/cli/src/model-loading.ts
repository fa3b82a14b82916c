import type { Problem } from '@irpo/contracts';
import type { CausalLM, ChatMessage, ChatTemplate, SamplingTask, Tokenizer } from '@irpo/sampler';
import { importExport } from './optional-import.js';

/** What `loadModel` of @irpo/model returns, as far as the sampling commands use it. */
export interface LoadedModel {
  model: CausalLM;
  tokenizer: Tokenizer & { chatTemplate?: string | null };
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

type ApplyChatTemplate = (template: string, messages: ChatMessage[], options: { addGenerationPrompt?: boolean; bosToken?: string; eosToken?: string }) => string;

/** The tokenizer's chat template (tokenizer_config.json) rendered by @irpo/model, when it has one. */
export async function chatTemplateOf(loaded: LoadedModel): Promise<ChatTemplate | undefined> {
  const template = loaded.tokenizer.chatTemplate;
  if (typeof template !== 'string' || template === '') return undefined;
  const apply = await importExport<ApplyChatTemplate>('@irpo/model', 'applyChatTemplate');
  const tok = loaded.tokenizer;
  const special = (id: number | null | undefined) => (id === null || id === undefined ? '' : tok.decode([id], { skipSpecialTokens: false }));
  const bosToken = special(tok.bosTokenId);
  const eosToken = special(tok.eosTokenIds[0]);
  return (messages, options) => apply(template, messages, { addGenerationPrompt: options.addGenerationPrompt, bosToken, eosToken });
}
