import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, type PreferencePair } from '@irpo/contracts';
import { CharTokenizer, PLAIN_PROMPT, type PromptFormat } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { checkCheckpoint } from '../src/launch/check-checkpoint.js';
import { findTrainerOutput } from '../src/launch/adopt-trainer-output.js';
import { readTrainerPairs } from '../src/launch/read-trainer-pairs.js';
import { readTrainerMetrics } from '../src/launch/trainer-metrics.js';
import { resolvePairsFormat, trainerPairRow } from '../src/launch/trainer-pairs.js';

// '<pad>' 0, '<bos>' 1, '<eos>' 2, then the charset from 3: '1' 3, '2' 4, '+' 5, '=' 6, '3' 7.
const tokenizer = new CharTokenizer('12+=3');
const chat: PromptFormat = { kind: 'chat', reason: 'test', addSpecialTokens: false, render: (p) => `<u>${p}</u>` };
const pair: PreferencePair = {
  v: 1,
  id: 'p#0',
  problemId: 'p',
  prompt: '1+2=',
  chosen: '3',
  rejected: '12',
  chosenSource: 'sample',
  chosenEnded: true,
  rejectedEnded: false, // cut off: irpo appends no EOS
};

describe('pairs as trainers read them (training.pairsFormat)', () => {
  it('defaults to conversational for a chat prompt format, standard for plain', () => {
    expect(resolvePairsFormat(undefined, chat)).toBe('conversational');
    expect(resolvePairsFormat(undefined, PLAIN_PROMPT)).toBe('standard');
    expect(resolvePairsFormat('tokens', chat)).toBe('tokens');
  });

  it("conversational: a chat model's rows are a user turn and assistant turns", () => {
    expect(trainerPairRow(pair, 'conversational', tokenizer, chat)).toEqual({
      prompt: [{ role: 'user', content: '1+2=' }],
      chosen: [{ role: 'assistant', content: '3' }],
      rejected: [{ role: 'assistant', content: '12' }],
    });
  });

  it("standard: the prompt as irpo renders it, EOS's text after each answer that ended", () => {
    expect(trainerPairRow(pair, 'standard', tokenizer, PLAIN_PROMPT)).toEqual({ prompt: '1+2=', chosen: '3<eos>', rejected: '12' });
    expect(trainerPairRow(pair, 'standard', tokenizer, chat)).toMatchObject({ prompt: '<u>1+2=</u>' });
  });

  it('tokens: the ids irpo trains on (plain: BOS, then the prompt; answers with EOS id 2 when they ended)', () => {
    expect(trainerPairRow(pair, 'tokens', tokenizer, PLAIN_PROMPT)).toEqual({
      prompt_ids: [1, 3, 5, 4, 6],
      chosen_ids: [7, 2],
      rejected_ids: [3, 4],
    });
  });

  it('irpo train reads conversational and plain standard rows back as the pairs they came from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-formats-'));
    const back = async (format: 'conversational' | 'standard', promptFormat: PromptFormat) => {
      const file = join(dir, `${format}.jsonl`);
      await writeFile(file, JSON.stringify(trainerPairRow(pair, format, tokenizer, promptFormat)) + '\n');
      return readTrainerPairs(file, tokenizer, promptFormat);
    };
    expect((await back('standard', PLAIN_PROMPT))[0]).toMatchObject({
      prompt: '1+2=',
      chosen: '3',
      rejected: '12',
      chosenEnded: true,
      rejectedEnded: false,
    });
    expect((await back('conversational', chat))[0]).toMatchObject({ prompt: '1+2=', chosen: '3', rejected: '12' });
    await expect(back('standard', chat)).rejects.toThrow(/rendered template.*conversational/);
  });
});

describe('what a trainer leaves in {out}', () => {
  it('finds out itself, else the newest checkpoint-N (by write time, then by N)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'irpo-out-'));
    for (const n of [10, 2]) {
      await mkdir(join(out, `checkpoint-${n}`));
      await writeFile(join(out, `checkpoint-${n}`, 'config.json'), '{}');
    }
    await mkdir(join(out, 'runs')); // TensorBoard logs: no model
    const at = (n: number, secs: number) => utimes(join(out, `checkpoint-${n}`, 'config.json'), secs, secs);
    await at(10, 1000);
    await at(2, 1000);
    expect(await findTrainerOutput(out)).toEqual({ dir: join(out, 'checkpoint-10'), kind: 'full' }); // same time: the larger N
    await at(2, 2000);
    expect(await findTrainerOutput(out)).toEqual({ dir: join(out, 'checkpoint-2'), kind: 'full' }); // written last
    await writeFile(join(out, 'adapter_config.json'), '{}');
    expect(await findTrainerOutput(out)).toEqual({ dir: out, kind: 'adapter' });
    const empty = await mkdtemp(join(tmpdir(), 'irpo-out-'));
    await expect(findTrainerOutput(empty)).rejects.toThrow(/no model here.*config\.json.*adapter_config\.json/);
  });

  it('checks a checkpoint by its headers: a shape that config.json does not imply is named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irpo-ckpt-'));
    const config = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 8,
      hidden_size: 4,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      max_position_embeddings: 16,
      tie_word_embeddings: true,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const header = JSON.stringify({ 'model.embed_tokens.weight': { dtype: 'F32', shape: [8, 5], data_offsets: [0, 160] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from(header), Buffer.alloc(160)]));
    const err = await checkCheckpoint(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('model.embed_tokens.weight');
    expect((err as Error).message).toMatch(/shape \[8, 5\], config\.json implies \[8, 4\]/);
  });

  it('reads JSONL metric lines under TRL or irpo names, leaving out what was not logged', async () => {
    const out = await mkdtemp(join(tmpdir(), 'irpo-metrics-'));
    await writeFile(
      join(out, 'metrics.jsonl'),
      [
        JSON.stringify({ step: 1, loss: 0.7, nll_loss: 1.2, learning_rate: 1e-6 }),
        JSON.stringify({ loss: 0.65, 'rewards/margins': 0.1 }),
        JSON.stringify({ note: 'eval', eval_loss: 0.3 }),
        '{"step": 3, "lo', // being written
      ].join('\n'),
    );
    const { records } = await readTrainerMetrics(out);
    expect(records).toEqual([
      { v: 1, step: 1, loss: 0.7, nll: 1.2, lr: 1e-6 },
      { v: 1, step: 2, loss: 0.65, 'rewards/margins': 0.1 },
    ]);
  });
});
