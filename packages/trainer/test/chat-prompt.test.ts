import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer, promptFormat, type FormattingTokenizer } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { encodeSequence, packBatch } from '../src/tokenize.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** The real tokenizer files live in shared/ beside the repository clone. */
const smolShared = join(repo, '..', 'shared', 'tokenizers', 'SmolLM2-135M-Instruct');
const smolChatConfig = join(repo, 'packages', 'model', 'test', 'fixtures', 'smollm2-chat', 'tokenizer_config.json');

// Characters map to their char code; BOS = 1 (its text is "\x01", so the template's bos_token
// encodes back to 1), EOS = 2, pad = 0. The template writes BOS itself.
const tok: FormattingTokenizer & { vocabSize: number; padTokenId: number } = {
  encode: (text, o) => [...(o?.addSpecialTokens ? [1] : []), ...[...text].map((c) => c.charCodeAt(0))],
  decode: (ids) => String.fromCharCode(...ids),
  vocabSize: 256,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
  chatTemplate: "{{ bos_token }}<{{ messages[0]['content'] }}>{% if add_generation_prompt %}:{% endif %}",
};

describe('encodeSequence under a chat format', () => {
  it('puts the whole rendered template in the prompt (loss mask 0) and BOS once', () => {
    const seq = encodeSequence(tok, 'ab', 'c', true, promptFormat(tok, 'chat'));
    // "\x01<ab>:" → [1, 60, 97, 98, 62, 58]; response "c" + EOS → [99, 2]
    expect(seq).toEqual({ promptIds: [1, 60, 97, 98, 62, 58], responseIds: [99, 2] });
    const b = packBatch([seq], 0);
    expect(Array.from(b.targets)).toEqual([60, 97, 98, 62, 58, 99, 2]);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 0, 0, 0, 1, 1]);
    // plain: the prompt as written, BOS from the tokenizer
    expect(encodeSequence(tok, 'ab', 'c', true, promptFormat(tok, 'plain')).promptIds).toEqual([1, 97, 98]);
  });
});

describe.skipIf(!existsSync(smolShared))(
  'SmolLM2 tokenizer and ChatML template (skipped: shared/tokenizers is not beside the repository)',
  () => {
    it('template tokens are prompt; the response ends with <|im_end|>, the eos', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'irpo-chat-tok-'));
      try {
        await copyFile(join(smolShared, 'tokenizer.json'), join(dir, 'tokenizer.json'));
        await copyFile(smolChatConfig, join(dir, 'tokenizer_config.json'));
        const smol = await loadTokenizer(dir);
        const format = promptFormat(smol, 'auto');
        const prompt = 'Question: 2 + 3?\n\nSolution:';
        const response = ' 2 + 3 = 5\nFinal answer: 5';
        const seq = encodeSequence(smol, prompt, response, true, format);
        expect(smol.decode(seq.promptIds)).toBe(format.render(prompt));
        expect(seq.promptIds[0]).toBe(1); // <|im_start|> of the system turn, not doubled
        expect(seq.promptIds.filter((id) => id === 1)).toHaveLength(3);
        expect(seq.responseIds).toEqual([...smol.encode(response, { addSpecialTokens: false }), 2]);
        const b = packBatch([seq], 2);
        const mask = Array.from(b.lossMask);
        expect(mask.slice(0, seq.promptIds.length - 1).every((m) => m === 0)).toBe(true);
        expect(mask.slice(seq.promptIds.length - 1).every((m) => m === 1)).toBe(true);
        expect(mask.reduce((a, m) => a + m, 0)).toBe(seq.responseIds.length);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
