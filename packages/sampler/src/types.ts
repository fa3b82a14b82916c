/**
 * The structural interfaces the sampler needs from @irpo/model and @irpo/data, copied from the
 * agreed shared API so the real implementations satisfy them without the sampler importing
 * either package's concrete classes.
 */
import type { tf } from '@irpo/core';
import type { ModelSpec, Problem } from '@irpo/contracts';

export interface KvCache {
  readonly batch: number; // rows currently in the cache
  readonly length: number; // positions filled so far (same for all rows; rows are left-padded)
  /** Keep only these rows (finished sequences leave the batch); returns a new cache, disposes the old. */
  select(rows: number[]): KvCache;
  dispose(): void;
}

export interface CausalLM {
  readonly spec: ModelSpec;
  /** Training/scoring forward: right-padded ids [B,T] int32 and mask [B,T] (1 real, 0 pad) → logits [B,T,V] float32. */
  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D;
  /** Generation: LEFT-padded prompt ids [B,T] + mask [B,T]; fills a fresh cache with room for maxNewTokens more positions; returns last-position logits [B,V]. */
  prefill(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, maxNewTokens: number): { logits: tf.Tensor2D; cache: KvCache };
  /** One decode step: next token per row [B] int32 → logits [B,V]; appends to the cache in place. */
  decode(tokens: tf.Tensor1D, cache: KvCache): tf.Tensor2D;
  readonly variables: Map<string, tf.Variable>;
  dispose(): void;
}

export interface Tokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | null;
}

/** The part of @irpo/data's Task that sampling uses. */
export interface SamplingTask {
  readonly name?: string;
  prompt(problem: Problem): string;
  extractAnswer(completion: string): string | null;
  isCorrect(answer: string | null, problem: Problem): boolean;
  /** Stop strings for sampling (e.g. "\n\nQuestion:"). */
  readonly stop: string[];
}

/** A chat message as the OpenAI chat API sends it. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Renders chat messages into the prompt text a completion continues (the model's chat template). */
export type ChatTemplate = (messages: ChatMessage[], options: { addGenerationPrompt: boolean }) => string;
