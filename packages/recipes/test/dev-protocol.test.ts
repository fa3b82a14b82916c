import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevSelectionSchema, readJsonFile, readJsonlAll, SampleSchema, StopRecordSchema, writeJsonAtomic } from '@irpo/contracts';
import { getTask } from '@irpo/data';
import { loadModel } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { bestOf } from '../src/dev-selection.js';
import { devIndices, loadRunSplits } from '../src/dev-split.js';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { hashWeights } from '../src/model-slot.js';
import { createProgress, type Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { stopRuleFires } from '../src/stop-rule.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const quiet = createProgress(process.stderr, true);
const modelHash = async (dir: string) => {
  const m = await loadModel(dir);
  const h = await hashWeights(m.model.variables);
  m.model.dispose();
  return h;
};

describe('dev split', () => {
  it('holds out N training problems chosen by the seed, disjoint from the training ones', async () => {
    const config = tinyConfig('unused', { task: { name: 'arith', trainLimit: 50, testLimit: 6, devLimit: 30 } });
    const task = getTask('arith');
    const all = await task.load('train');
    const { train, dev } = await loadRunSplits(task, config);
    expect(dev).toHaveLength(30);
    expect(train).toHaveLength(50);
    const devIds = new Set(dev.map((p) => p.id));
    expect(train.filter((p) => devIds.has(p.id))).toEqual([]);
    // The training problems are the rest of the split in its order, cut to trainLimit.
    expect(train.map((p) => p.id)).toEqual(
      all
        .filter((p) => !devIds.has(p.id))
        .slice(0, 50)
        .map((p) => p.id),
    );
    // Another seed holds out other problems; the same seed the same ones.
    expect(devIndices(all.length, 30, 3)).toEqual(devIndices(all.length, 30, 3));
    expect(devIndices(all.length, 30, 4)).not.toEqual(devIndices(all.length, 30, 3));
  });

  it("reads the task's own validation split with devFrom dev, and refuses a task without one", async () => {
    const config = tinyConfig('unused', { task: { name: 'arith', trainLimit: 8, testLimit: 6, devLimit: 5, devFrom: 'dev' } });
    const task = getTask('arith');
    const { dev, train } = await loadRunSplits(task, config);
    expect(dev.map((p) => p.id)).toEqual((await task.load('dev', { limit: 5 })).map((p) => p.id));
    expect(train.map((p) => p.id)).toEqual((await task.load('train', { limit: 8 })).map((p) => p.id));
    const gsm = tinyConfig('unused', { task: { name: 'gsm8k', path: '/nonexistent', devLimit: 5, devFrom: 'dev' } });
    await expect(loadRunSplits(getTask('gsm8k', { path: '/nonexistent' }), gsm)).rejects.toThrow(
      /task\.devFrom: gsm8k has no validation split/,
    );
  });
});

describe('bestOf', () => {
  it('takes the highest accuracy, the earliest step on ties', () => {
    const records = [
      { step: 6, accuracy: 0.5 },
      { step: 2, accuracy: 0.25 },
      { step: 4, accuracy: 0.5 },
      { step: 8, accuracy: 0.5 },
    ];
    expect(bestOf(records)).toEqual({ step: 4, accuracy: 0.5 });
    expect(bestOf([])).toBeUndefined();
  });
});

describe('checkpoint selection on dev (tiny model)', () => {
  it('scores every evalEvery steps and the last, keeps the best as M(t), and resumes mid-selection', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-dev-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    const over = { task: { name: 'arith' as const, trainLimit: 8, testLimit: 4, goldAsWinner: true, devLimit: 6 }, iterations: 1 };
    const config = tinyConfig(m0, { ...over, training: { lr: 3e-3, batchSize: 4, checkpointEvery: 2, maxGradNorm: 1, evalEvery: 1 } });
    const out = join(root, 'run');
    await runIterativeRpo(config, { out, progress: quiet });

    const runJson = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { dev: { from: string; ids: string[] } };
    expect(runJson.dev.from).toBe('train');
    expect(runJson.dev.ids).toHaveLength(6);
    const sampled = new Set((await readJsonlAll(join(out, 'iter-1', 'samples.jsonl'), SampleSchema)).map((s) => s.problemId));
    expect(sampled.size).toBe(8);
    expect(runJson.dev.ids.filter((id) => sampled.has(id))).toEqual([]);

    const m0Dev = await readJsonFile(join(out, 'iter-0', 'dev.json'), DevSelectionSchema);
    expect(m0Dev.checkpoints.map((c) => c.step)).toEqual([0]);
    const sel = await readJsonFile(join(out, 'iter-1', 'dev.json'), DevSelectionSchema);
    const steps = sel.checkpoints.map((c) => c.step);
    const total = steps.at(-1)!;
    expect(steps).toEqual(Array.from({ length: total }, (_, i) => i + 1)); // every step, the last included
    expect(sel.chosen).toBe(bestOf(sel.checkpoints)!.step);
    for (const c of sel.checkpoints) expect(c.accuracy * 6).toBeCloseTo(Math.round(c.accuracy * 6), 9); // counts of 6
    expect(existsSync(join(out, 'iter-1', 'dev-best'))).toBe(false); // snapshots removed once M(1) is saved

    // M(1) is the chosen step's weights: the same run cut at that step (its last) saved them.
    const cut = tinyConfig(m0, {
      ...over,
      iteration: { n: 3, k: 2, temperature: 1, maxNewTokens: 16, epochs: 2, maxSteps: sel.chosen },
    });
    await runIterativeRpo(cut, { out: join(root, 'cut'), progress: quiet });
    expect(await modelHash(join(out, 'iter-1', 'model'))).toBe(await modelHash(join(root, 'cut', 'iter-1', 'model')));

    // A crash right after the third dev score (between resume checkpoints at 2 and 4) resumes
    // from step 2, scores steps 3.. again, and ends with the same scores, choice and M(1).
    let scores = 0;
    const crashing: Progress = {
      ...quiet,
      info: (line) => {
        if (line.includes('dev accuracy') && ++scores === 3) throw new Error('simulated crash');
      },
    };
    const out2 = join(root, 'run2');
    await expect(runIterativeRpo(config, { out: out2, progress: crashing })).rejects.toThrow('simulated crash');
    expect(existsSync(join(out2, 'iter-1', 'checkpoint', 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(out2, 'iter-1', 'dev.json'))).toBe(false);
    await runIterativeRpo(config, { out: out2, progress: quiet });
    expect(await readJsonFile(join(out2, 'iter-1', 'dev.json'), DevSelectionSchema)).toEqual(sel);
    expect(await modelHash(join(out2, 'iter-1', 'model'))).toBe(await modelHash(join(out, 'iter-1', 'model')));
  }, 300_000);
});

describe('stop rule', () => {
  async function runWithDev(accuracies: number[]): Promise<RunDir> {
    const root = await mkdtemp(join(tmpdir(), 'irpo-stop-'));
    const run = await RunDir.open(root);
    for (const [t, a] of accuracies.entries()) {
      await mkdir(run.iterDir(t), { recursive: true });
      await writeJsonAtomic(run.path(t, 'dev.json'), { v: 1, problems: 100, checkpoints: [{ step: 10, accuracy: a }], chosen: 10 });
    }
    return run;
  }
  const ctxOf = (devGainBelow: number) =>
    ({ config: tinyConfig('unused', { stop: { devGainBelow } }), progress: quiet }) as unknown as Parameters<typeof stopRuleFires>[0];

  it('fires after the first iteration that gained less than p points, and records why', async () => {
    // Gains 17.5, 4.9, 0.5 points (the paper's GSM8K curve, shortened); p = 1 stops after iteration 3.
    const run = await runWithDev([0.5, 0.675, 0.724, 0.729]);
    const fired = [];
    for (const t of [1, 2, 3]) fired.push(await stopRuleFires(ctxOf(1), run, t));
    expect(fired).toEqual([false, false, true]);
    const stop = await readJsonFile(join(run.root, 'stop.json'), StopRecordSchema);
    expect(stop.afterIteration).toBe(3);
    expect(stop.gainPoints).toBeCloseTo(0.5, 9);
    expect(stop.reason).toContain('iteration 3 gained 0.5 points');
    // A drop is a gain below any positive threshold.
    expect(await stopRuleFires(ctxOf(0), await runWithDev([0.5, 0.4]), 1)).toBe(true);
  });

  it('ends a run at that iteration, and a rerun of the same command does not continue it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-stop-run-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    // No gain is ever 1000 points: the run stops after iteration 1 of 3.
    const config = tinyConfig(m0, {
      task: { name: 'arith', trainLimit: 8, testLimit: 4, goldAsWinner: true, devLimit: 4 },
      iterations: 3,
      stop: { devGainBelow: 1000 },
    });
    const out = join(root, 'run');
    const first = await runIterativeRpo(config, { out, progress: quiet });
    expect(first.evals).toHaveLength(2); // M0 and M1
    expect(existsSync(join(out, 'iter-2'))).toBe(false);
    expect((await readJsonFile(join(out, 'stop.json'), StopRecordSchema)).afterIteration).toBe(1);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('Stopped after iteration 1: iteration 1 gained');
    const again = await runIterativeRpo(config, { out, progress: quiet });
    expect(again.evals).toHaveLength(2);
    expect(existsSync(join(out, 'iter-2'))).toBe(false);
  }, 300_000);
});
