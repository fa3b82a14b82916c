import { UsageError } from '@irpo/contracts';
import type { Task } from '@irpo/data';
import type { CausalLM, LoadedModel } from '@irpo/model';
import type { OnnxDecoderPool, OnnxLlama } from '@irpo/onnx';
import type { ChatTemplate } from '@irpo/sampler';

// Loaded lazily: commands that need no model do not pay for TensorFlow.js at start-up.

/**
 * Initialises the best backend (or --backend) and loads a Hugging Face model folder; with
 * `adapter` (--adapter), a PEFT LoRA adapter folder is loaded onto it and merged, so generation
 * runs at the base model's speed. An adapter that does not fit the model is refused by
 * loadLoraAdapter, naming the file and the field or tensor.
 */
export async function loadModelFrom(dir: string, adapter?: string): Promise<LoadedModel> {
  const { initBackend } = await import('@irpo/core');
  await initBackend();
  const { loadLoraAdapter, loadModel } = await import('@irpo/model');
  const loaded = await loadModel(dir);
  if (adapter !== undefined) {
    try {
      await loadLoraAdapter(adapter, loaded.model);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
    loaded.model.mergeLora();
  }
  return loaded;
}

/** The --runtime option of the commands that run a local model (as engine.runtime in a run config). */
export const RUNTIME_OPTION = {
  choices: ['auto', 'onnx', 'tfjs'] as const,
  default: 'auto' as 'auto' | 'onnx' | 'tfjs',
  describe: 'What runs the model: onnx (ONNX Runtime), tfjs (TensorFlow.js), auto: ONNX Runtime when it loads, else TensorFlow.js',
} as const;

/**
 * What a local engine decodes with, per --runtime: the loaded model on ONNX Runtime (its weights,
 * an adapter already merged; in one decoder thread per core for a small model, so batches decode
 * side by side) or the TensorFlow.js model itself; logs which and why.
 */
export async function inferenceModelOf(
  loaded: LoadedModel,
  runtime: 'auto' | 'onnx' | 'tfjs',
): Promise<CausalLM | OnnxLlama | OnnxDecoderPool> {
  const { chooseRuntime, decoderLine, runtimeLine } = await import('@irpo/recipes');
  const { createLogger } = await import('@irpo/contracts');
  const choice = await chooseRuntime(runtime);
  const log = createLogger('irpo');
  log.info(runtimeLine(choice).replace('engine.runtime', '--runtime'));
  if (choice.runtime === 'tfjs') return loaded.model;
  const { decoderFor, OnnxDecoderPool, OnnxLlama } = await import('@irpo/onnx');
  const decoder = await decoderFor(await OnnxLlama.fromModel(loaded.model), {}, (reason) => log.info(reason));
  if (decoder instanceof OnnxDecoderPool) log.info(decoderLine(decoder));
  return decoder;
}

/** The --prompt-format option of the commands that sample a local model (as prompt.format in a run config). */
export const PROMPT_FORMAT_OPTION = {
  choices: ['auto', 'chat', 'plain'] as const,
  default: 'auto' as 'auto' | 'chat' | 'plain',
  describe: 'How prompts reach a --model: auto renders its chat template when it has one (as irpo run does), chat always, plain never',
} as const;

/** The --adapter option of the commands that load a model (eval, sample, serve). */
/** The longest one endpoint request may take before the server is taken for hung (engine.requestTimeoutS). */
export const REQUEST_TIMEOUT_OPTION = {
  type: 'number',
  default: 600,
  describe: 'Seconds one endpoint request (n samples) may take; past it the server is taken for hung and the command stops',
} as const;

export const CONCURRENCY_OPTION = {
  type: 'number',
  default: 8,
  describe: 'Endpoint requests in flight, kept busy across all problems (vLLM batches them: raise it for throughput)',
} as const;

export const ADAPTER_OPTION = {
  type: 'string',
  describe: 'A LoRA adapter folder in PEFT layout (adapter_config.json, adapter_model.safetensors) to load onto the model',
} as const;

export async function getTaskByName(name: string, options: { path?: string } = {}): Promise<Task> {
  const { getTask } = await import('@irpo/data');
  return getTask(name, options);
}

/**
 * The tokenizer's chat template (chat_template.jinja or tokenizer_config.json), when it has one,
 * rendered by @irpo/model's chatRenderer: the renderer the loop's chat prompt format uses, so
 * `irpo serve`'s /v1/chat/completions reads a prompt as the same text (and, encoded without added
 * special tokens, the same ids) as sampling in process.
 */
export async function chatTemplateOf(loaded: LoadedModel): Promise<ChatTemplate | undefined> {
  const { chatRenderer } = await import('@irpo/model');
  return chatRenderer(loaded.tokenizer) ?? undefined;
}

/** The first model an OpenAI-compatible endpoint lists under /models. */
export async function firstServedModel(endpoint: string, apiKeyEnv: string): Promise<string> {
  const key = (await import('@irpo/sampler')).apiKeyFromEnv(apiKeyEnv);
  const res = await fetch(endpoint.replace(/\/+$/, '') + '/models', { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) throw new UsageError(`${endpoint}/models answered ${res.status}: pass --served-model`);
  const json = (await res.json()) as { data?: { id: string }[] };
  const id = json.data?.[0]?.id;
  if (!id) throw new UsageError(`${endpoint}/models lists no model: pass --served-model`);
  return id;
}
