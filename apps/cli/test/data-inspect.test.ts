import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { irpo } from './irpo-bin.js';
import { afterAll, describe, expect, it } from 'vitest';

const shared = fileURLToPath(new URL('../../../../shared/data', import.meta.url));
const smolTokenizer = fileURLToPath(new URL('../../../../shared/tokenizers/SmolLM2-135M-Instruct/tokenizer.json', import.meta.url));
const smolChatConfig = fileURLToPath(new URL('../../../packages/model/test/fixtures/smollm2-chat/tokenizer_config.json', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('irpo data inspect', () => {
  it('summarises the built-in arith task as JSON', () => {
    const r = irpo('data', 'inspect', 'arith', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ train: 2000, test: 200, dev: 200 });
    expect(report.samplePrompt).toMatch(/^Q: .+\nA: $/);
    expect(report.answers.goldSelfCheck.judgedCorrect).toBe(200);
    expect(report.answers.maxPromptChars).toBeLessThanOrEqual(120);
  });

  it('prints a human summary with a sample prompt', () => {
    const r = irpo('data', 'inspect', 'arith', '--split', 'train', '--limit', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('task arith (train 20, test 20, dev 20)');
    expect(r.stdout).toContain('--- sample prompt ---');
  });

  it.skipIf(!existsSync(join(shared, 'gsm8k')))('reads GSM8K from --path (skipped without ../shared/data/gsm8k)', () => {
    const r = irpo('data', 'inspect', 'gsm8k', '--path', join(shared, 'gsm8k'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ train: 7473, test: 1319, dev: null });
    expect(report.answers.goldSelfCheck).toEqual({ withGold: 1319, judgedCorrect: 1319 });
  });

  it.skipIf(!existsSync(join(shared, 'gsm8k')) || !existsSync(smolTokenizer))(
    '--model shows the prompt as a SmolLM2-style chat model reads it (skipped without shared/ data and tokenizers)',
    async () => {
      // the tokenizer files of a SmolLM2-135M-Instruct folder: tokenizer.json and its ChatML template
      const model = await mkdtemp(join(tmpdir(), 'irpo-inspect-model-'));
      dirs.push(model);
      await copyFile(smolTokenizer, join(model, 'tokenizer.json'));
      await copyFile(smolChatConfig, join(model, 'tokenizer_config.json'));
      const args = ['data', 'inspect', 'gsm8k', '--path', join(shared, 'gsm8k'), '--limit', '1', '--model', model];
      const r = irpo(...args, '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      const question =
        'Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. ' +
        "She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";
      const prompt =
        'Your task is to answer the question below. Give step by step reasoning before you answer, ' +
        `and when you're ready to answer, please use the format "Final answer: ..."\n\nQuestion: ${question}\n\nSolution:`;
      expect(report.samplePrompt).toBe(prompt);
      expect(report.modelPrompt).toMatchObject({
        model,
        setting: 'auto',
        format: 'chat',
        reason: 'the model has a chat template (prompt.format auto)',
        addSpecialTokens: false,
        text:
          '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
          `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`,
      });
      expect(report.modelPrompt.tokens).toBeGreaterThan(80);
      expect(report.modelPrompt.tokens).toBeLessThan(200);

      const plain = JSON.parse(irpo(...args, '--prompt-format', 'plain', '--json').stdout);
      expect(plain.modelPrompt).toMatchObject({ format: 'plain', text: prompt, addSpecialTokens: true });
      expect(plain.modelPrompt.tokens).toBeLessThan(report.modelPrompt.tokens);

      const human = irpo(...args);
      expect(human.stdout).toContain('chat (the model has a chat template (prompt.format auto))');
      expect(human.stdout).toContain(`<|im_start|>user\n${prompt}<|im_end|>`);
    },
  );

  it('fails with one line naming the path when the data is missing', () => {
    const r = irpo('data', 'inspect', 'gsm8k', '--path', '/nonexistent/gsm8k');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/gsm8k');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on an unknown task', () => {
    expect(irpo('data', 'inspect', 'nope').code).toBe(2);
  });
});
