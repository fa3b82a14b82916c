import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, writeFileAtomic } from '@irpo/contracts';
import { CharTokenizer } from './char-tokenizer.js';
import { HfTokenizer, type SpecialTokenIds } from './hf-tokenizer.js';
import type { SavableTokenizer } from './tokenizer.js';

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

async function readJsonIfPresent(file: string): Promise<Record<string, unknown> | null> {
  if (!(await exists(file))) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(file, undefined, undefined, `invalid JSON (${(e as Error).message})`);
  }
}

/**
 * The tokenizer of a model directory: `tokenizer.json` (+ `tokenizer_config.json`, and
 * config.json's special ids as a fallback). A character-level WordLevel file gives a CharTokenizer.
 * The chat template is `chat_template.jinja` when the folder has one (what transformers writes
 * since 4.47), else tokenizer_config.json's `chat_template`.
 */
export async function loadTokenizer(dir: string): Promise<SavableTokenizer> {
  const file = join(dir, 'tokenizer.json');
  const json = await readJsonIfPresent(file);
  if (!json) throw new InputError(file, undefined, undefined, 'missing: a model directory needs a tokenizer.json');
  const model = json.model as { type?: string } | undefined;
  if (model?.type === 'WordLevel') {
    try {
      return CharTokenizer.fromTokenizerJson(json, file);
    } catch (e) {
      throw new InputError(file, undefined, 'model', (e as Error).message.replace(`${file}: `, ''));
    }
  }
  const config = await readJsonIfPresent(join(dir, 'tokenizer_config.json'));
  const modelConfig = (await readJsonIfPresent(join(dir, 'config.json'))) ?? {};
  const fallback: SpecialTokenIds = {
    bosTokenId: modelConfig.bos_token_id as number | null | undefined,
    eosTokenId: modelConfig.eos_token_id as number | number[] | null | undefined,
    padTokenId: modelConfig.pad_token_id as number | null | undefined,
  };
  const jinja = join(dir, 'chat_template.jinja');
  const chatTemplate = (await exists(jinja)) ? await readFile(jinja, 'utf8') : null;
  try {
    return new HfTokenizer(json, config, fallback, chatTemplate);
  } catch (e) {
    throw new InputError(file, undefined, undefined, `cannot build the tokenizer: ${(e as Error).message}`);
  }
}

/** Writes the tokenizer's files (tokenizer.json, tokenizer_config.json, chat_template.jinja if any) into `dir`. */
export async function saveTokenizer(dir: string, tokenizer: SavableTokenizer): Promise<void> {
  for (const [name, value] of Object.entries(tokenizer.toFiles())) {
    // text files (chat_template.jinja) as they are, JSON files pretty-printed
    await writeFileAtomic(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');
  }
}
