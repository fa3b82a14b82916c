import { Template } from '@huggingface/jinja';
import type { ChatMessage } from './tokenizer.js';

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
}

/** Renders a tokenizer_config.json `chat_template` (Jinja) the way transformers' apply_chat_template does. */
export function applyChatTemplate(template: string, messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
  return new Template(template).render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    bos_token: options.bosToken ?? '',
    eos_token: options.eosToken ?? '',
  });
}
