/** Text ↔ token ids, as the sampler and trainer use it. */
export interface Tokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | null;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

/** A tokenizer that can also be written back to a directory as tokenizer.json (+ config). */
export interface SavableTokenizer extends Tokenizer {
  /** The files to write, by name (`tokenizer.json`, optional `tokenizer_config.json` and `chat_template.jinja`); strings are written as they are. */
  toFiles(): Record<string, unknown>;
  /** The chat template (chat_template.jinja, else tokenizer_config.json), if any. */
  readonly chatTemplate: string | null;
}

/**
 * The id that fills a batch's padding: the tokenizer's pad token, else its first end-of-sequence
 * token, else 0. Padded positions are masked out, so any id in the vocabulary does.
 */
export function padIdOf(tokenizer: Pick<Tokenizer, 'padTokenId' | 'eosTokenIds'>): number {
  return tokenizer.padTokenId ?? tokenizer.eosTokenIds[0] ?? 0;
}
