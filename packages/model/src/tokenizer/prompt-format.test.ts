import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@irpo/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, sharedDir } from '../../test/fixture-paths.js';
import { CharTokenizer } from './char-tokenizer.js';
import { loadTokenizer, saveTokenizer } from './load-tokenizer.js';
import { encodePrompt, promptFormat } from './prompt-format.js';
import type { SavableTokenizer } from './tokenizer.js';

const smolShared = join(sharedDir, 'tokenizers', 'SmolLM2-135M-Instruct');
const tinyLlamaShared = join(sharedDir, 'tokenizers', 'TinyLlama-1.1B-Chat-v1.0');
const smolChatConfig = join(fixtureDir('smollm2-chat'), 'tokenizer_config.json');
const SYSTEM = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face';

// The real tokenizers live in shared/ beside the repository (see test/fixture-paths.ts).
describe.skipIf(!existsSync(smolShared) || !existsSync(tinyLlamaShared))(
  'prompt formats on real tokenizers (skipped: shared/tokenizers is not beside the repository)',
  () => {
    const dirs: string[] = [];
    let smolChat: SavableTokenizer;
    let smolPlain: SavableTokenizer;
    const tempDir = async () => {
      const d = await mkdtemp(join(tmpdir(), 'irpo-fmt-'));
      dirs.push(d);
      return d;
    };

    beforeAll(async () => {
      const d = await tempDir();
      await copyFile(join(smolShared, 'tokenizer.json'), join(d, 'tokenizer.json'));
      await copyFile(smolChatConfig, join(d, 'tokenizer_config.json'));
      smolChat = await loadTokenizer(d);
      smolPlain = await loadTokenizer(smolShared); // tokenizer.json + config.json: no template
    });
    afterAll(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    it("SmolLM2's ChatML template: the task prompt is the single user turn after the default system turn", () => {
      const f = promptFormat(smolChat, 'auto');
      expect(f.kind).toBe('chat');
      expect(f.reason).toMatch(/has a chat template.*auto/);
      expect(f.addSpecialTokens).toBe(false);
      const prompt = 'Question: Tom has 3 apples and buys 2 more. How many apples does he have?\n\nSolution:';
      expect(f.render(prompt)).toBe(
        `<|im_start|>system\n${SYSTEM}<|im_end|>\n` +
          '<|im_start|>user\nQuestion: Tom has 3 apples and buys 2 more. How many apples does he have?\n\nSolution:<|im_end|>\n' +
          '<|im_start|>assistant\n',
      );
      const ids = encodePrompt(smolChat, f, prompt);
      // <|im_start|> (1) opens each of the three turns, <|im_end|> (2) closes the two written ones;
      // they are single special tokens, never spelled out, and nothing else is added.
      expect(ids[0]).toBe(1);
      expect(ids.filter((id) => id === 1)).toHaveLength(3);
      expect(ids.filter((id) => id === 2)).toHaveLength(2);
      // the assistant's turn opener ends the prompt: <|im_start|> "ass" "istant" "\n"
      expect(ids.slice(-4)).toEqual([1, 520, 9531, 198]);
      expect(smolChat.decode(ids)).toBe(f.render(prompt));
    });

    it('auto: chat with tokenizer_config.json chat_template or chat_template.jinja, plain without a template', async () => {
      expect(promptFormat(smolPlain, 'auto')).toMatchObject({ kind: 'plain', addSpecialTokens: true });
      expect(promptFormat(smolPlain, 'auto').reason).toMatch(/no chat template/);
      expect(promptFormat(smolPlain, 'auto').render('Q: 1+1?')).toBe('Q: 1+1?');

      // chat_template.jinja beside tokenizer.json (transformers >= 4.47 writes it there) wins over tokenizer_config.json
      const d = await tempDir();
      await copyFile(join(smolShared, 'tokenizer.json'), join(d, 'tokenizer.json'));
      await copyFile(smolChatConfig, join(d, 'tokenizer_config.json'));
      await writeFile(
        join(d, 'chat_template.jinja'),
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<bot>{% endif %}",
      );
      const jinja = await loadTokenizer(d);
      expect(promptFormat(jinja, 'auto').render('hi')).toBe('<user>hi<bot>');
      // and is written back as a file, so a saved M(t) keeps the template
      const out = await tempDir();
      await saveTokenizer(out, jinja);
      expect(await readFile(join(out, 'chat_template.jinja'), 'utf8')).toBe(jinja.chatTemplate);
      expect(promptFormat(await loadTokenizer(out), 'auto').render('hi')).toBe('<user>hi<bot>');
    });

    it('plain and chat settings override auto; chat without a template is a UsageError', () => {
      expect(promptFormat(smolChat, 'plain')).toMatchObject({ kind: 'plain', addSpecialTokens: true });
      expect(promptFormat(smolChat, 'plain').render('x')).toBe('x');
      expect(promptFormat(smolChat, 'chat')).toMatchObject({ kind: 'chat', reason: 'prompt.format chat' });
      expect(() => promptFormat(smolPlain, 'chat')).toThrow(UsageError);
      expect(() => promptFormat(new CharTokenizer('ab'), 'chat')).toThrow(/no chat template/);
      expect(promptFormat(new CharTokenizer('ab')).kind).toBe('plain');
    });

    it('a template that writes BOS itself gives one BOS, not two (TinyLlama adds <s> when asked)', async () => {
      const d = await tempDir();
      for (const f of ['tokenizer.json', 'config.json']) await copyFile(join(tinyLlamaShared, f), join(d, f));
      const cfg = JSON.parse(await readFile(join(tinyLlamaShared, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      cfg.chat_template = "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}";
      await writeFile(join(d, 'tokenizer_config.json'), JSON.stringify(cfg));
      const tok = await loadTokenizer(d);
      const chat = promptFormat(tok);
      expect(chat.render('Hi')).toBe('<s>[INST] Hi [/INST]');
      const ids = encodePrompt(tok, chat, 'Hi');
      expect(ids[0]).toBe(1);
      expect(ids.filter((id) => id === 1)).toHaveLength(1);
      // the plain format lets the post-processor add it: also exactly one
      const plain = encodePrompt(tok, promptFormat(tok, 'plain'), 'Hi');
      expect(plain).toEqual([1, ...tok.encode('Hi', { addSpecialTokens: false })]);
    });

    it("TinyLlama's own template (no bos_token in it) is encoded without BOS, as apply_chat_template(tokenize=True) does", async () => {
      const tok = await loadTokenizer(tinyLlamaShared);
      const f = promptFormat(tok);
      expect(f.render('Hi')).toBe('<|user|>\nHi</s>\n<|assistant|>\n');
      expect(encodePrompt(tok, f, 'Hi')[0]).not.toBe(1);
    });
  },
);
