import { UsageError } from '@irpo/contracts';
import type { Task } from '@irpo/data';
import type { LoadedModel } from '@irpo/model';
import type { ChatTemplate } from '@irpo/sampler';

// Loaded lazily: commands that need no model do not pay for TensorFlow.js at start-up.

/** Initialises the best backend (or --backend) and loads a Hugging Face model folder. */
export async function loadModelFrom(dir: string): Promise<LoadedModel> {
  const { initBackend } = await import('@irpo/core');
  await initBackend();
  const { loadModel } = await import('@irpo/model');
  return loadModel(dir);
}

export async function getTaskByName(name: string, options: { path?: string } = {}): Promise<Task> {
  const { getTask } = await import('@irpo/data');
  return getTask(name, options);
}

/** The tokenizer's chat template (tokenizer_config.json) rendered by @irpo/model, when it has one. */
export async function chatTemplateOf(loaded: LoadedModel): Promise<ChatTemplate | undefined> {
  const template = loaded.tokenizer.chatTemplate;
  if (typeof template !== 'string' || template === '') return undefined;
  const { applyChatTemplate } = await import('@irpo/model');
  const tok = loaded.tokenizer;
  const special = (id: number | null | undefined) =>
    id === null || id === undefined ? '' : tok.decode([id], { skipSpecialTokens: false });
  const bosToken = special(tok.bosTokenId);
  const eosToken = special(tok.eosTokenIds[0]);
  return (messages, options) =>
    applyChatTemplate(template, messages, { addGenerationPrompt: options.addGenerationPrompt, bosToken, eosToken });
}

/** The first model an OpenAI-compatible endpoint lists under /models. */
export async function firstServedModel(endpoint: string, apiKeyEnv: string): Promise<string> {
  const key = process.env[apiKeyEnv];
  const res = await fetch(endpoint.replace(/\/+$/, '') + '/models', { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) throw new UsageError(`${endpoint}/models answered ${res.status}: pass --served-model`);
  const json = (await res.json()) as { data?: { id: string }[] };
  const id = json.data?.[0]?.id;
  if (!id) throw new UsageError(`${endpoint}/models lists no model: pass --served-model`);
  return id;
}
