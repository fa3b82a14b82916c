import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EvalReportSchema,
  PreferencePairSchema,
  readJsonFile,
  readJsonlAll,
  RefLogpsSchema,
  RunConfigSchema,
  RunStateSchema,
  SampleSchema,
  TrainStepMetricsSchema,
} from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { getTask } from '@irpo/data';
import { loadModel, loadTokenizer, promptFormat, saveRandomModel } from '@irpo/model';
import { LocalEngine } from '@irpo/sampler';
import { computeRefLogps } from '@irpo/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import type { Progress } from '../src/progress.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** Real tokenizer files and GSM8K live in shared/ beside the repository clone. */
const shared = join(repo, '..', 'shared');
const smolTokenizer = join(shared, 'tokenizers', 'SmolLM2-135M-Instruct', 'tokenizer.json');
const gsm8k = join(shared, 'data', 'gsm8k');
const smolChatConfig = join(repo, 'packages', 'model', 'test', 'fixtures', 'smollm2-chat', 'tokenizer_config.json');
const SYSTEM = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face';

/**
 * A random-weight Llama in Hugging Face layout with SmolLM2-135M-Instruct's real tokenizer and
 * ChatML template: the full 49,152-token vocabulary, but a 16-wide single layer, so it runs in
 * seconds.
 */
async function smolShapedModel(root: string): Promise<string> {
  const tokDir = join(root, 'tok');
  await mkdir(tokDir, { recursive: true });
  await copyFile(smolTokenizer, join(tokDir, 'tokenizer.json'));
  await copyFile(smolChatConfig, join(tokDir, 'tokenizer_config.json'));
  const tokenizer = await loadTokenizer(tokDir);
  const shape = { maxPositions: 1024, bosTokenId: 1, eosTokenId: 2, padTokenId: 2 };
  return saveRandomModel(join(root, 'm0'), tokenizer, shape, { seed: 7 });
}

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

describe.skipIf(!existsSync(smolTokenizer) || !existsSync(join(gsm8k, 'train.jsonl')))(
  'one Iterative RPO iteration on GSM8K with a chat model (skipped: shared/ tokenizers or GSM8K data are not beside the repository)',
  () => {
    it('renders every prompt through the ChatML template in sampling, reference, training and eval', async () => {
      await initBackend('wasm');
      const root = await mkdtemp(join(tmpdir(), 'irpo-chat-run-'));
      roots.push(root);
      const m0 = await smolShapedModel(root);
      const out = join(root, 'run');
      const config = RunConfigSchema.parse({
        name: 'chat-gsm8k',
        seed: 11,
        model: m0,
        backend: 'wasm',
        task: { name: 'gsm8k', path: gsm8k, trainLimit: 4, testLimit: 4, goldAsWinner: true },
        iterations: 1,
        // 8 new tokens cut every sample short: dropTruncated false lets them lose to the gold solution
        iteration: { n: 2, k: 2, temperature: 1, maxNewTokens: 8, maxSteps: 2, dropTruncated: false },
        training: { lr: 1e-3, batchSize: 1, checkpointEvery: 10 },
        eval: { maxNewTokens: 8 },
        engine: { batchSize: 8 },
      });
      expect(config.prompt.format).toBe('auto');
      const lines: string[] = [];
      const progress: Progress = { start() {}, update() {}, done() {}, info: (l) => void lines.push(l) };
      const result = await runIterativeRpo(config, { out, progress });
      expect(result.evals).toHaveLength(2);
      expect(lines).toContain('prompts: chat (the model has a chat template (prompt.format auto))');
      expect((await readJsonFile(join(out, 'state.json'), RunStateSchema)).complete).toBe(true);

      // The stored data keeps the task's raw prompts: model-independent, as ARCHITECTURE.md says.
      const task = getTask('gsm8k', { path: gsm8k });
      const train = await task.load('train', { limit: 4 });
      const it1 = join(out, 'iter-1');
      const samples = await readJsonlAll(join(it1, 'samples.jsonl'), SampleSchema);
      expect(samples).toHaveLength(8);
      expect(new Set(samples.map((s) => s.prompt))).toEqual(new Set(train.map((p) => task.prompt(p))));
      expect(samples.every((s) => !s.prompt.includes('<|im_start|>'))).toBe(true);
      const pairs = await readJsonlAll(join(it1, 'pairs.jsonl'), PreferencePairSchema);
      expect(pairs.length).toBeGreaterThan(0);
      expect(pairs[0]!.prompt.startsWith('<|im_start|>')).toBe(false);
      const ref = await readJsonlAll(join(it1, 'ref-logps.jsonl'), RefLogpsSchema);
      expect(ref.map((r) => r.pairId).sort()).toEqual(pairs.map((p) => p.id).sort());
      expect((await readJsonlAll(join(it1, 'train-log.jsonl'), TrainStepMetricsSchema)).length).toBe(2);
      for (const t of [0, 1]) await readJsonFile(join(out, `iter-${t}`, 'eval.json'), EvalReportSchema);

      // M1 keeps the template: the next iteration renders alike.
      const m1Tokenizer = await loadTokenizer(join(it1, 'model'));
      const m0Tokenizer = await loadTokenizer(m0);
      expect(m1Tokenizer.chatTemplate).toBe(m0Tokenizer.chatTemplate);
      expect(promptFormat(m1Tokenizer).render('x')).toBe(
        `<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n`,
      );

      // The reference log-probs are those of the chat-rendered prompt, not of the raw one.
      const base = await loadModel(m0);
      try {
        const score = async (format: 'chat' | 'plain') =>
          computeRefLogps(base.model, base.tokenizer, pairs.slice(0, 1), {
            out: join(root, `check-${format}.jsonl`),
            batchSize: 1,
            promptFormat: promptFormat(base.tokenizer, format),
          });
        const [chat, plain] = [await score('chat'), await score('plain')];
        const stored = ref.find((r) => r.pairId === pairs[0]!.id)!;
        expect(chat.get(stored.pairId)!.chosen).toBeCloseTo(stored.chosen, 3);
        expect(chat.get(stored.pairId)!.rejected).toBeCloseTo(stored.rejected, 3);
        expect(Math.abs(plain.get(stored.pairId)!.chosen - stored.chosen)).toBeGreaterThan(1e-3);

        // M0's greedy eval is what a chat-formatted engine generates, not what the raw prompt gives.
        const test = await task.load('test', { limit: 4 });
        const greedy = await readJsonlAll(join(out, 'iter-0', 'eval-greedy.jsonl'), SampleSchema);
        const gen = async (engine: LocalEngine) =>
          (await engine.generate({ prompts: test.map((p) => task.prompt(p)), temperature: 0, maxNewTokens: 8, stop: task.stop })).map(
            ([c]) => c!.text,
          );
        const byId = new Map(greedy.map((s) => [s.problemId, s.completion]));
        const stored0 = test.map((p) => byId.get(p.id));
        expect(await gen(new LocalEngine(base.model, base.tokenizer, { promptFormat: promptFormat(base.tokenizer, 'chat') }))).toEqual(
          stored0,
        );
        expect(await gen(new LocalEngine(base.model, base.tokenizer))).not.toEqual(stored0);
      } finally {
        base.model.dispose();
      }
      // the templated prompt fits the model's context with room to spare (the test's sizing)
      const ids = base.tokenizer.encode(promptFormat(base.tokenizer).render(task.prompt(train[0]!)), { addSpecialTokens: false });
      expect(ids.length).toBeLessThan(400);
      expect(await readFile(join(it1, 'model', 'tokenizer_config.json'), 'utf8')).toContain('chat_template');
    }, 120_000);
  },
);
