import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasShared, NO_SHARED, sharedDir } from '../../test/fixture-paths.js';
import { applyChatTemplate } from './chat-template.js';
import { CharTokenizer } from './char-tokenizer.js';
import { HfTokenizer } from './hf-tokenizer.js';
import { loadTokenizer, saveTokenizer } from './load-tokenizer.js';
import type { SavableTokenizer } from './tokenizer.js';

const tokDir = (name: string): string => join(sharedDir, 'tokenizers', name);
const toks: Record<string, SavableTokenizer> = {};
let questions: string[] = [];

beforeAll(async () => {
  if (!hasShared) return;
  for (const name of ['gpt2', 'SmolLM2-135M-Instruct', 'TinyLlama-1.1B-Chat-v1.0']) toks[name] = await loadTokenizer(tokDir(name));
  const lines = (await readFile(join(sharedDir, 'data', 'gsm8k', 'test.jsonl'), 'utf8')).split('\n').filter(Boolean);
  questions = lines.map((l) => (JSON.parse(l) as { question: string }).question);
});

describe.skipIf(!hasShared)(`Hugging Face tokenizer.json (local files) ${NO_SHARED}`, () => {
  it('GPT-2: every line of golden.jsonl encodes to its ids', async () => {
    const lines = (await readFile(join(tokDir('gpt2'), 'golden.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBe(157);
    for (const line of lines) {
      const g = JSON.parse(line) as { text: string; ids: number[]; add_special_tokens: boolean };
      expect(toks.gpt2!.encode(g.text, { addSpecialTokens: g.add_special_tokens }), g.text).toEqual(g.ids);
    }
  });

  it('known token ids from the README', () => {
    expect(toks.gpt2!.encode('Hello world the')).toEqual([15496, 995, 262]);
    expect(toks['SmolLM2-135M-Instruct']!.encode('Hello world the\n')).toEqual([19556, 905, 260, 198]);
    // TinyLlama's post-processor prepends <s> (1); "\n" falls back to the byte token <0x0A> (13).
    expect(toks['TinyLlama-1.1B-Chat-v1.0']!.encode('Hello world\n')).toEqual([1, 15043, 3186, 13]);
  });

  it('special ids: TinyLlama from tokenizer_config.json, SmolLM2 from config.json', () => {
    const tl = toks['TinyLlama-1.1B-Chat-v1.0']!;
    expect([tl.bosTokenId, tl.eosTokenIds, tl.padTokenId, tl.vocabSize]).toEqual([1, [2], 2, 32000]);
    const smol = toks['SmolLM2-135M-Instruct']!;
    expect([smol.bosTokenId, smol.eosTokenIds, smol.padTokenId, smol.vocabSize]).toEqual([1, [2], 2, 49152]);
    expect(toks.gpt2!.vocabSize).toBe(50257);
  });

  it.each(['gpt2', 'SmolLM2-135M-Instruct', 'TinyLlama-1.1B-Chat-v1.0'])(
    '%s: encode→decode is the identity on every GSM8K test question',
    (name) => {
      const tok = toks[name]!;
      expect(questions.length).toBe(1319);
      for (const q of questions) expect(tok.decode(tok.encode(q, { addSpecialTokens: false }))).toBe(q);
    },
  );

  it('TinyLlama chat template renders through @huggingface/jinja', () => {
    const tl = toks['TinyLlama-1.1B-Chat-v1.0']!;
    const text = applyChatTemplate(tl.chatTemplate!, [{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true, eosToken: '</s>' });
    expect(text).toBe('<|user|>\nHi</s>\n<|assistant|>\n');
  });
});

describe('CharTokenizer', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ids 0–2 are <pad>, <bos>, <eos>; characters follow in order', () => {
    const t = new CharTokenizer('ab\n');
    expect(t.vocabSize).toBe(6);
    expect(t.encode('ba\n')).toEqual([1, 4, 3, 5]);
    expect(t.decode([1, 4, 3, 2], { skipSpecialTokens: true })).toBe('ba');
    expect(() => t.encode('c')).toThrow(/"c".*not in the vocabulary/);
  });

  it('saves as a WordLevel tokenizer.json that loadTokenizer reads back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'irpo-char-'));
    const t = new CharTokenizer('0123456789+-=. \nabc');
    await saveTokenizer(dir, t);
    const back = await loadTokenizer(dir);
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.encode('12 + 3 = 15.\n')).toEqual(t.encode('12 + 3 = 15.\n'));
    expect([back.bosTokenId, back.eosTokenIds, back.padTokenId, back.vocabSize]).toEqual([1, [2], 0, t.vocabSize]);
    // The same file through the HF library: its WordLevel vocabulary is a plain HF one.
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as {
      model: { type: string; vocab: Record<string, number> };
    };
    expect(json.model.type).toBe('WordLevel');
    expect(json.model.vocab['a']).toBe(3 + 16);
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const hf = new HfTokenizer(json, config);
    // Ids by hand: <pad> 0, <bos> 1, <eos> 2, then '0'..'9' 3..12, '+' 13, '-' 14, '=' 15, '.' 16, ' ' 17, '\n' 18.
    const ids = [1, 4, 5, 17, 13, 17, 6, 17, 15, 17, 4, 8, 16, 18];
    expect(hf.encode('12 + 3 = 15.\n')).toEqual(ids);
    expect(t.encode('12 + 3 = 15.\n')).toEqual(ids);
    expect(hf.decode(ids, { skipSpecialTokens: true })).toBe('12 + 3 = 15.\n');
    expect([hf.bosTokenId, hf.eosTokenIds, hf.padTokenId, hf.vocabSize]).toEqual([1, [2], 0, t.vocabSize]);
  });
});
