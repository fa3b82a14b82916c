export type { CausalLM } from './llama/causal-lm.js';
export type { KvCache } from './llama/kv-cache.js';
export { LlamaKvCache } from './llama/kv-cache.js';
export { LlamaModel } from './llama/llama-model.js';
export {
  fusedCausalAttention,
  flashAttentionSupports,
  flashAttentionWarmUp,
  flashBackward,
  flashForward,
  type AttentionShape,
} from './llama/flash-attention.js';
export { createModel, type CreateModelOptions } from './llama/create-model.js';
export { expectedWeightShapes } from './llama/weight-names.js';
export { loraTensorName, loraTensorShapes, LORA_MODULE_PATHS } from './llama/lora.js';
export {
  saveLoraAdapter,
  loadLoraAdapter,
  parsePeftAdapterConfig,
  peftAdapterConfig,
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  type SaveLoraAdapterOptions,
  type LoadedLoraAdapter,
} from './io/lora-adapter.js';
export { ropeInvFreq } from './llama/rope.js';
export {
  SUPPORTED_ARCHITECTURES,
  HfConfigSchema,
  type HfConfig,
  specFromHfConfig,
  hfConfigFromSpec,
  headDimOf,
} from './config/hf-config.js';
export {
  readSafetensors,
  floatToBf16Bits,
  floatToHalfBits,
  halfToFloat,
  writeSafetensors,
  encodeSafetensors,
  decodeSafetensors,
  parseSafetensorsHeader,
  type NamedTensor,
  type SafetensorsDtype,
} from './io/safetensors.js';
export {
  loadCheckpoint,
  saveCheckpoint,
  readModelSpec,
  readCheckpointTensors,
  TORCH_DTYPE,
  type SaveCheckpointOptions,
} from './io/checkpoint.js';
export { loadModel, saveModel, saveRandomModel, type LoadedModel } from './io/model-dir.js';
export { parameterCount, estimateMemory, type MemoryEstimate } from './config/model-size.js';
export type { Tokenizer, SavableTokenizer, ChatMessage } from './tokenizer/tokenizer.js';
export { padIdOf } from './tokenizer/tokenizer.js';
export { HfTokenizer, type SpecialTokenIds } from './tokenizer/hf-tokenizer.js';
export { CharTokenizer, CHAR_SPECIAL_TOKENS } from './tokenizer/char-tokenizer.js';
export { loadTokenizer, saveTokenizer } from './tokenizer/load-tokenizer.js';
export { applyChatTemplate, type ChatTemplateOptions } from './tokenizer/chat-template.js';
export { inspectModelDir, storedDtype, type ModelDirInfo } from './io/inspect-model-dir.js';
export {
  chatRenderer,
  encodePrompt,
  promptFormat,
  PLAIN_PROMPT,
  type ChatRenderer,
  type FormattingTokenizer,
  type PromptFormat,
  type PromptFormatSetting,
} from './tokenizer/prompt-format.js';
