import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, irpo } from './irpo-bin.js';

// The demo's base model, shipped in the repository.
const arithBase = fileURLToPath(new URL('../../../packages/recipes/assets/arith-base', import.meta.url));
// SmolLM2-135M-Instruct's real tokenizer (shared/ beside the repository) and its ChatML template (a fixture).
const smolTokenizer = fileURLToPath(new URL('../../../../shared/tokenizers/SmolLM2-135M-Instruct/tokenizer.json', import.meta.url));
const smolChatConfig = fileURLToPath(new URL('../../../packages/model/test/fixtures/smollm2-chat/tokenizer_config.json', import.meta.url));
const gsm8k = fileURLToPath(new URL('../../../../shared/data/gsm8k', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpo-cli-serve-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('irpo serve as a launched engine', () => {
  it('serve --help lists --seed and --batch', () => {
    const r = irpo('serve', '--help');
    expect(r.code).toBe(0);
    for (const opt of ['--seed', '--batch', '--max-batch-size']) expect(r.stdout).toContain(opt);
  });

  it('launchEngine brings it up on a free port; with --batch, concurrent requests get the same samples as one at a time', async () => {
    // imported lazily, as the CLI's commands do (the module-boundary rule wants one way)
    const { HttpEngine, launchEngine } = await import('@irpo/sampler');
    const { getTask } = await import('@irpo/data');
    const logFile = join(dir, 'serve.log');
    const engine = await launchEngine({
      command: `${process.execPath} ${bin} serve {model} --port {port} --seed {seed} --batch`,
      model: arithBase,
      seed: 0,
      logFile,
      startupTimeoutS: 300,
    });
    try {
      expect(engine.modelName).toBe('arith-base');
      expect(await readFile(logFile, 'utf8')).toContain(`listening on http://127.0.0.1:${engine.port}/v1 (model arith-base)`);
      const task = await getTask('arith');
      const prompts = (await task.load('test', { limit: 8 })).map((p) => task.prompt(p));
      const req = { prompts, n: 2, temperature: 1, maxNewTokens: 40, stop: task.stop, seed: 5 };
      const http = (concurrency: number) => new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName, concurrency });
      const oneByOne = await http(1).generate(req);
      const together = await http(8).generate(req);
      expect(together.map((cs) => cs.map((c) => c.text))).toEqual(oneByOne.map((cs) => cs.map((c) => c.text)));
      expect(together).toEqual(oneByOne);
      // the model writes arithmetic, and a seed changes the samples
      expect(oneByOne.flat().some((c) => /\d+ [-+*] \d+ = \d+/.test(c.text))).toBe(true);
      const other = await http(8).generate({ ...req, seed: 6 });
      expect(other.map((cs) => cs.map((c) => c.text))).not.toEqual(oneByOne.map((cs) => cs.map((c) => c.text)));
    } finally {
      await engine.stop(); // resolves once every process of the group is gone
    }
  });

  it.skipIf(!existsSync(smolTokenizer) || !existsSync(gsm8k))(
    'a chat model: /v1/chat/completions of irpo serve gives the samples of the in-process chat format (skipped without shared/)',
    async () => {
      const { initBackend } = await import('@irpo/core');
      const { loadModel, loadTokenizer, promptFormat, saveRandomModel } = await import('@irpo/model');
      const { HttpEngine, LocalEngine, launchEngine } = await import('@irpo/sampler');
      const { getTask } = await import('@irpo/data');
      await initBackend('wasm');
      // a random-weight Llama in Hugging Face layout with SmolLM2's tokenizer and chat template
      const tokDir = join(dir, 'smol-tok');
      await mkdir(tokDir, { recursive: true });
      await copyFile(smolTokenizer, join(tokDir, 'tokenizer.json'));
      await copyFile(smolChatConfig, join(tokDir, 'tokenizer_config.json'));
      const tokenizer = await loadTokenizer(tokDir);
      const modelDir = await saveRandomModel(
        join(dir, 'smol-chat'),
        tokenizer,
        { maxPositions: 512, bosTokenId: 1, eosTokenId: 2, padTokenId: 2 },
        { seed: 3 },
      );

      const task = await getTask('gsm8k', { path: gsm8k });
      const problems = await task.load('test', { limit: 3 });
      const req = {
        prompts: problems.map((p) => task.prompt(p)),
        keys: problems.map((p) => p.id),
        n: 2,
        temperature: 1,
        maxNewTokens: 6,
        stop: task.stop,
        seed: 9,
      };
      const local = await loadModel(modelDir);
      let inProcess: import('@irpo/sampler').Completion[][];
      let raw: import('@irpo/sampler').Completion[][];
      try {
        inProcess = await new LocalEngine(local.model, local.tokenizer, { promptFormat: promptFormat(local.tokenizer) }).generate(req);
        raw = await new LocalEngine(local.model, local.tokenizer).generate(req);
      } finally {
        local.model.dispose();
      }
      const engine = await launchEngine({
        command: `${process.execPath} ${bin} serve {model} --port {port} --seed {seed} --backend wasm`,
        model: modelDir,
        seed: 0,
        logFile: join(dir, 'serve-chat.log'),
        startupTimeoutS: 300,
      });
      try {
        const viaChat = await new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName, api: 'chat' }).generate(req);
        const texts = (r: import('@irpo/sampler').Completion[][]) => r.map((cs) => cs.map((c) => c.text));
        expect(texts(viaChat)).toEqual(texts(inProcess));
        expect(texts(raw)).not.toEqual(texts(inProcess)); // the template changed what the model read
      } finally {
        await engine.stop();
      }
    },
    120_000,
  );
});
