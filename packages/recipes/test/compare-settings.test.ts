import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevSelectionSchema, readJsonFile, RunConfigSchema, type RunConfig } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { methodConfig, runCompare } from '../src/compare.js';
import { DEMO_COMPARE, demoCompareOverrides, demoConfig } from '../src/demo.js';
import { createProgress } from '../src/progress.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const quiet = createProgress(process.stderr, true);

describe('per-method settings in a comparison', () => {
  it("resolves a method's settings over the run's, leaving sampling and the other fields alone", () => {
    const config = tinyConfig('m', {
      compare: { 'sft-gold': { training: { lr: 0.5 }, iteration: { epochs: 3 } }, dpo: { training: { beta: 0.3 } } },
    });
    const sft = methodConfig(config, 'sft-gold');
    expect([sft.training.lr, sft.iteration.epochs, sft.training.batchSize, sft.iteration.n]).toEqual([0.5, 3, 4, 3]);
    expect(sft.compare).toEqual({});
    expect(methodConfig(config, 'dpo').training.beta).toBe(0.3);
    const irpo = methodConfig(config, 'irpo');
    expect([irpo.training.lr, irpo.iteration.epochs]).toEqual([config.training.lr, config.iteration.epochs]);
    expect(() => RunConfigSchema.parse({ compare: { star: { iteration: { n: 4 } } } })).toThrow(/n/);
  });

  it("demo --compare: each method at its grid's lr, all selected on 100 dev problems every 10 steps; --lora or a set lr gives one lr to all", () => {
    const config = demoConfig(demoCompareOverrides({ lora: false, user: {} }));
    expect([config.iterations, config.task.devLimit, config.training.evalEvery, config.iteration.epochs]).toEqual([2, 100, 10, 4]);
    const lrs = (['sft-gold', 'star', 'dpo', 'irpo'] as const).map((m) => methodConfig(config, m).training.lr);
    // The grid's choices, as the README's grid table reports them.
    expect(lrs).toEqual([1e-4, 5e-4, 5e-6, 2e-5]);
    // The overrides are fresh objects: changing one result does not change DEMO_COMPARE or the next.
    const first = demoCompareOverrides({ lora: false, user: {} }) as { training: { lr: number }; task: { devLimit: number } };
    first.training.lr = 9;
    first.task.devLimit = 9;
    expect(DEMO_COMPARE.training.lr).toBe(1e-4);
    expect(demoConfig(demoCompareOverrides({ lora: false, user: {} })).task.devLimit).toBe(100);
    for (const o of [
      { lora: false, user: { training: { lr: 3e-4 } } },
      { lora: false, user: { training: { lr: 3e-4, beta: 0.2 } } },
      { lora: true, user: {} },
    ]) {
      const c = demoConfig({ ...demoCompareOverrides(o), training: { ...DEMO_COMPARE.training, lr: 3e-4 } });
      expect(c.compare).toEqual({});
      expect(methodConfig(c, 'dpo').training.lr).toBe(3e-4);
    }
  });

  it('trains each method with its own settings, selects all on the same dev split, and records them in compare.json', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-cmp-settings-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    const config = tinyConfig(m0, {
      task: { name: 'arith', trainLimit: 8, testLimit: 4, goldAsWinner: true, devLimit: 5 },
      iterations: 1,
      training: { lr: 3e-3, batchSize: 4, checkpointEvery: 2, maxGradNorm: 1, evalEvery: 2 },
      compare: { 'sft-gold': { training: { lr: 1e-2 }, iteration: { epochs: 1 } } },
    });
    const out = join(root, 'cmp');
    await runCompare(config, { out, methods: ['sft-gold', 'irpo'], progress: quiet });
    const runOf = async (m: string) =>
      JSON.parse(await readFile(join(out, m, 'run.json'), 'utf8')) as { config: RunConfig; dev: { ids: string[] } };
    const [sft, irpo] = [await runOf('sft-gold'), await runOf('irpo')];
    expect([sft.config.training.lr, sft.config.iteration.epochs]).toEqual([1e-2, 1]);
    expect([irpo.config.training.lr, irpo.config.iteration.epochs]).toEqual([3e-3, 2]);
    expect(sft.dev.ids).toEqual(irpo.dev.ids);
    for (const m of ['sft-gold', 'irpo']) expect(existsSync(join(out, m, 'iter-1', 'dev.json')), m).toBe(true);
    const sel = await readJsonFile(join(out, 'sft-gold', 'iter-1', 'dev.json'), DevSelectionSchema);
    expect(sel.problems).toBe(5);
    const compare = JSON.parse(await readFile(join(out, 'compare.json'), 'utf8')) as {
      methods: { method: string; settings?: { training: { lr: number }; iteration: { epochs: number } } }[];
    };
    const settings = Object.fromEntries(compare.methods.map((m) => [m.method, m.settings]));
    expect(settings['sft-gold']!.training.lr).toBe(1e-2);
    expect(settings['sft-gold']!.iteration.epochs).toBe(1);
    expect(settings.irpo!.training.lr).toBe(3e-3);
  }, 300_000);

  it('refuses per-method settings on a single run, the stop rule in a comparison, and selection in irpo train', async () => {
    const { runIterativeRpo } = await import('../src/iterative-rpo.js');
    const config = tinyConfig('m', { compare: { star: { training: { lr: 1 } } } });
    await expect(runIterativeRpo(config, { out: join(tmpdir(), 'never') })).rejects.toThrow(
      /compare: per-method settings apply only to a comparison/,
    );
    const stop = tinyConfig('m', { task: { name: 'arith', devLimit: 4 }, stop: { devGainBelow: 1 } });
    await expect(runCompare(stop, { out: join(tmpdir(), 'never') })).rejects.toThrow(/stop\.devGainBelow/);
    // `irpo train` is one stage on a pairs file: no dev split to select on.
    const { trainStageOnPairs } = await import('../src/train-stage-on-pairs.js');
    const select = tinyConfig('m', { task: { name: 'arith', devLimit: 4 }, training: { evalEvery: 2 } });
    await expect(trainStageOnPairs('m', 'pairs.jsonl', join(tmpdir(), 'never'), select)).rejects.toThrow(
      /training\.evalEvery: one training stage/,
    );
  });
});
