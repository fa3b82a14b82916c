/**
 * @irpo/sampler: generation engines (local with a KV cache, OpenAI-compatible HTTP) and
 * resumable sampling of N scored completions per problem to samples.jsonl.
 */
export type { Completion, Engine, EngineActivity, GenerateRequest } from './engine.js';
export type { CausalLM, ChatMessage, ChatTemplate, KvCache, SamplingTask, Tokenizer } from './types.js';
export { LocalEngine, type EngineStats, type HostDecoder, type LocalEngineOptions } from './local-engine.js';
export {
  sampleDataset,
  type SampleDatasetOptions,
  type SampleDatasetResult,
  type SampleProgress,
  type SampleStall,
} from './sample-dataset.js';
export { validateRequest } from './validate-request.js';
export { deriveSeed, promptSeed, sampleSeed } from './generation/rng.js';
export { applyTemperature } from './generation/temperature.js';
export { applyTopK } from './generation/top-k.js';
export { applyTopP } from './generation/top-p.js';
export { softmax, logSoftmaxAt } from './generation/softmax.js';
export { argmax } from './generation/argmax.js';
export { sampleToken, type SamplingParams } from './generation/sample-token.js';
export { StopMatcher } from './generation/stop-matcher.js';
export { EngineTimeoutError, EngineUnreachableError, HttpEngine, HttpEngineError, type HttpEngineOptions } from './http-engine.js';
export {
  EngineLaunchError,
  fillTemplate,
  freePort,
  launchEngine,
  shellQuote,
  type EngineExit,
  type LaunchedEngine,
  type LaunchEngineOptions,
} from './launch-engine.js';
export { BatchingEngine, type BatchingEngineOptions, type BatchingStats } from './batching-engine.js';
export { createServer, isLoopbackAddress, type OpenAIServer, type ServerOptions } from './server.js';
export { apiKeyCheck, apiKeyFromEnv, parseApiKeys, resolveApiKeyEnv, type ApiKeyRefusal } from './api-keys.js';
export { BadRequestError } from './openai-request.js';
export { mapLimit } from './map-limit.js';
