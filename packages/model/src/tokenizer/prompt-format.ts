import { UsageError } from '@irpo/contracts';
import { applyChatTemplate } from './chat-template.js';
import type { ChatMessage, Tokenizer } from './tokenizer.js';

/** What a run asks for: the model's chat template when it has one (auto), always (chat), never (plain). */
export type PromptFormatSetting = 'auto' | 'chat' | 'plain';

/** A tokenizer as far as prompt formatting needs it: its chat template (if any) and its special tokens. */
export type FormattingTokenizer = Pick<Tokenizer, 'encode' | 'decode' | 'bosTokenId' | 'eosTokenIds'> & {
  readonly chatTemplate?: string | null;
};

/**
 * How a task's prompt becomes the text (and then the ids) a model reads. The one place that
 * decides it: sampling, reference log-probs, training and evaluation all go through it, so the
 * model sees the same prompt tokens everywhere.
 */
export interface PromptFormat {
  /** The format chosen: the chat template's single user turn, or the prompt as it is. */
  readonly kind: 'chat' | 'plain';
  /** Why this format was chosen, for people reading `irpo data inspect`. */
  readonly reason: string;
  /**
   * Whether encoding the rendered text adds the tokenizer's special tokens (BOS). False for
   * chat: the template writes BOS itself when the model wants one (as transformers'
   * apply_chat_template(tokenize=True) encodes), so it is never doubled.
   */
  readonly addSpecialTokens: boolean;
  /** The text the model reads for a task prompt. */
  render(prompt: string): string;
}

/** The prompt as it is, encoded with the tokenizer's special tokens: what a base model reads. */
export const PLAIN_PROMPT: PromptFormat = {
  kind: 'plain',
  reason: 'the prompt as written (prompt.format plain)',
  addSpecialTokens: true,
  render: (prompt) => prompt,
};

/** Renders chat messages with a tokenizer's chat template, or null when it has none. */
export type ChatRenderer = (messages: ChatMessage[], options: { addGenerationPrompt: boolean }) => string;

/**
 * The tokenizer's chat template as a function of messages, with `bos_token` and `eos_token` bound
 * to its special tokens' text (as transformers passes them); null without a template.
 */
export function chatRenderer(tokenizer: FormattingTokenizer): ChatRenderer | null {
  const template = tokenizer.chatTemplate;
  if (typeof template !== 'string' || template === '') return null;
  const special = (id: number | null | undefined) =>
    id === null || id === undefined ? '' : tokenizer.decode([id], { skipSpecialTokens: false });
  const bosToken = special(tokenizer.bosTokenId);
  const eosToken = special(tokenizer.eosTokenIds[0]);
  return (messages, options) =>
    applyChatTemplate(template, messages, { addGenerationPrompt: options.addGenerationPrompt, bosToken, eosToken });
}

/**
 * The prompt format for a tokenizer and a setting. chat (and auto, when the tokenizer has a chat
 * template) renders the prompt as the single user turn of a conversation, followed by the
 * template's generation prompt (the assistant's turn opener), and encodes it without added
 * special tokens; plain keeps the prompt and lets the tokenizer add BOS. chat on a tokenizer
 * without a template is a UsageError.
 */
export function promptFormat(tokenizer: FormattingTokenizer, setting: PromptFormatSetting = 'auto'): PromptFormat {
  if (setting === 'plain') return PLAIN_PROMPT;
  const chat = chatRenderer(tokenizer);
  if (chat === null) {
    if (setting === 'chat')
      throw new UsageError(
        'prompt.format is chat but the model has no chat template (tokenizer_config.json chat_template or chat_template.jinja): use prompt.format plain or auto',
      );
    return { ...PLAIN_PROMPT, reason: 'the model has no chat template (prompt.format auto)' };
  }
  return {
    kind: 'chat',
    reason: setting === 'chat' ? 'prompt.format chat' : 'the model has a chat template (prompt.format auto)',
    addSpecialTokens: false,
    render: (prompt) => chat([{ role: 'user', content: prompt }], { addGenerationPrompt: true }),
  };
}

/** The ids a model reads for a task prompt under a format. */
export function encodePrompt(tokenizer: Pick<Tokenizer, 'encode'>, format: PromptFormat, prompt: string): number[] {
  return tokenizer.encode(format.render(prompt), { addSpecialTokens: format.addSpecialTokens });
}
