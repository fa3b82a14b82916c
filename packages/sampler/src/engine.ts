import type { FinishReason } from '@irpo/contracts';

/** One generation call: `n` completions for each prompt. */
export interface GenerateRequest {
  prompts: string[];
  /** Completions per prompt (default 1). */
  n?: number;
  /** 0 means greedy (argmax); default 1. */
  temperature?: number;
  /** Nucleus sampling mass in (0, 1]; default 1 (off). */
  topP?: number;
  /** Keep only the k most likely tokens; 0 or undefined means off. */
  topK?: number;
  maxNewTokens: number;
  /** Generation ends before the first occurrence of any of these; the text excludes it. */
  stop?: string[];
  /**
   * Base seed. Prompt i's seed is `promptSeed(seed, keys[i])`, and its sample j draws from
   * `sampleSeed(thatPromptSeed, j)`: the same (seed, key, j) gives the same completion whatever
   * else is in the batch.
   */
  seed?: number;
  /**
   * Per-prompt seeds, used as they are (no key mixed in): prompt i's sample j draws from
   * `sampleSeed(seeds[i], j)`. What a server does with a request's `seed`, and how one call
   * carries prompts of requests that came with different seeds (the server's batching).
   */
  seeds?: number[];
  /** Per-prompt keys for `promptSeed` (e.g. problem ids). Default: the prompt text. */
  keys?: string[];
  /**
   * Let the tokenizer add its special tokens (BOS) when encoding these prompts; default: the
   * engine's setting. A server sets false for prompts already rendered by a chat template, which
   * carry BOS themselves when the model wants one. Engines that do not tokenise ignore it.
   */
  addSpecialTokens?: boolean;
  /** Return the log-prob of each generated token under the model (temperature 1, unfiltered). */
  logprobs?: boolean;
  signal?: AbortSignal;
  /**
   * Streaming: called with each new piece of a completion's text as it is generated (text that
   * might still turn into a stop string is held back). The pieces of a completion join to its
   * final text. Engines that cannot stream call it once per completion.
   */
  onText?: (piece: TextPiece) => void;
}

export interface TextPiece {
  /** Index into prompts. */
  prompt: number;
  /** Sample index among the n of that prompt. */
  sample: number;
  text: string;
}

export interface Completion {
  text: string;
  /**
   * Completion length in tokens: EOS is not counted; after a stop string, the tokens generated
   * up to and including the one that completed it (the text itself ends before the stop).
   */
  tokens: number;
  finishReason: FinishReason;
  /** Generated token ids, when the engine knows them (the local engine does). */
  tokenIds?: number[];
  /** Per-token log-probs, when requested. */
  logprobs?: number[];
}

/** What an engine is doing now, for progress lines and hang detection. */
export interface EngineActivity {
  /** Requests (or calls) in flight now. */
  inFlight: number;
  /** When the engine last received an answer (ms since the epoch); undefined before the first. */
  lastAnswerAt?: number;
}

/** Something that turns prompts into completions: in process, or over HTTP. */
export interface Engine {
  /** Completions per prompt: result[i] holds the n completions of prompts[i], by sample index. */
  generate(request: GenerateRequest): Promise<Completion[][]>;
  /**
   * Calls of one prompt each that this engine serves at once to best effect: a server's
   * requests in flight (HttpEngine: its concurrency). Absent or 1: the engine batches inside a
   * call (the local engine), so callers give it many prompts per call, one call at a time.
   */
  readonly parallelism?: number;
  /**
   * Calls of many prompts each (batched inside the engine) that this engine serves at once to
   * best effect: the local engine over several decoders (@irpo/onnx's OnnxDecoderPool). Absent or
   * 1: one call at a time.
   */
  readonly batchParallelism?: number;
  /** What the engine is doing now, when it can tell. */
  activity?(): EngineActivity;
}
