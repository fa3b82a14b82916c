import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import type { SavableTokenizer } from './tokenizer.js';

type TokenField = string | { content?: string } | null | undefined;

/** Special token ids a model config may carry (config.json), used when tokenizer_config lacks them. */
export interface SpecialTokenIds {
  bosTokenId?: number | null;
  eosTokenId?: number | number[] | null;
  padTokenId?: number | null;
}

/**
 * A Hugging Face `tokenizer.json` (byte-level BPE, or BPE with byte fallback) through
 * @huggingface/tokenizers, which runs the file's normalizer, pre-tokenizer, model,
 * post-processor and decoder in plain JS, with no network.
 */
export class HfTokenizer implements SavableTokenizer {
  private readonly impl: HfTokenizerImpl;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | null;
  readonly chatTemplate: string | null;

  constructor(
    private readonly tokenizerJson: Record<string, unknown>,
    private readonly tokenizerConfig: Record<string, unknown> | null = null,
    fallback: SpecialTokenIds = {},
    /** The text of a chat_template.jinja beside tokenizer.json: it wins over tokenizer_config.json's template. */
    private readonly chatTemplateFile: string | null = null,
  ) {
    this.impl = new HfTokenizerImpl(tokenizerJson, tokenizerConfig ?? {});
    let maxId = -1;
    for (const id of this.impl.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const idOf = (field: TokenField): number | null => {
      const s = typeof field === 'string' ? field : field?.content;
      return s === undefined ? null : (this.impl.token_to_id(s) ?? null);
    };
    const cfg = tokenizerConfig ?? {};
    this.bosTokenId = idOf(cfg.bos_token as TokenField) ?? fallback.bosTokenId ?? null;
    const eos = idOf(cfg.eos_token as TokenField);
    const fromModel = fallback.eosTokenId == null ? [] : Array.isArray(fallback.eosTokenId) ? fallback.eosTokenId : [fallback.eosTokenId];
    this.eosTokenIds = [...new Set([...(eos === null ? [] : [eos]), ...fromModel])];
    this.padTokenId = idOf(cfg.pad_token as TokenField) ?? fallback.padTokenId ?? null;
    this.chatTemplate = chatTemplateFile ?? configChatTemplate(cfg.chat_template);
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.impl.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    // Space clean-up (" ." → ".") breaks the round trip; only a config that asks for it gets it.
    return this.impl.decode(ids, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.tokenizerConfig?.clean_up_tokenization_spaces === true,
    });
  }

  /** The token string of an id (undefined when out of range). */
  idToToken(id: number): string | undefined {
    return this.impl.id_to_token(id);
  }

  toFiles(): Record<string, unknown> {
    return {
      'tokenizer.json': this.tokenizerJson,
      ...(this.tokenizerConfig ? { 'tokenizer_config.json': this.tokenizerConfig } : {}),
      ...(this.chatTemplateFile !== null ? { 'chat_template.jinja': this.chatTemplateFile } : {}),
    };
  }
}

/**
 * tokenizer_config.json's `chat_template`: a string, or (as some models ship it) a list of named
 * templates, of which transformers uses the one named "default".
 */
function configChatTemplate(field: unknown): string | null {
  if (typeof field === 'string') return field;
  if (Array.isArray(field)) {
    const named = field.find((t): t is { name: string; template: string } => t?.name === 'default' && typeof t?.template === 'string');
    return named?.template ?? null;
  }
  return null;
}
