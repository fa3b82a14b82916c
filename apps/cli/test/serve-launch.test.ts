import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, irpo } from './irpo-bin.js';

// The demo's base model, shipped in the repository.
const arithBase = fileURLToPath(new URL('../../../packages/recipes/assets/arith-base', import.meta.url));

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
});
