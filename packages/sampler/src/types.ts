/**
 * The interfaces the sampler needs: the model's (from @irpo/model) and the part of a task that
 * sampling uses (structural, so fakes and @irpo/data's tasks both fit).
 */
import type { Problem } from '@irpo/contracts';

export type { CausalLM, KvCache, Tokenizer } from '@irpo/model';

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
