import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EvalReportSchema,
  PreferencePairSchema,
  readJsonFile,
  readJsonlAll,
  RefLogpsSchema,
  RunStateSchema,
  SampleSchema,
  TrainStepMetricsSchema,
} from '@irpo/contracts';
import { loadModel } from '@irpo/model';
import { computeRefLogps } from '@irpo/trainer';
import { describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { hashWeights } from '../src/model-slot.js';
import { createProgress } from '../src/progress.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const quiet = createProgress(process.stderr, true);

describe('runIterativeRpo (2 iterations, tiny model)', () => {
  it('writes schema-valid files, lowers the loss, and uses M(t-1) as the reference', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-recipe-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    const out = join(root, 'run');
    const result = await runIterativeRpo(tinyConfig(m0), { out, progress: quiet });
    expect(result.evals).toHaveLength(3); // M0, M1, M2

    const state = await readJsonFile(join(out, 'state.json'), RunStateSchema);
    expect(state.complete).toBe(true);
    for (const t of [1, 2]) {
      const dir = join(out, `iter-${t}`);
      const samples = await readJsonlAll(join(dir, 'samples.jsonl'), SampleSchema);
      expect(samples).toHaveLength(8 * 3);
      const pairs = await readJsonlAll(join(dir, 'pairs.jsonl'), PreferencePairSchema);
      expect(pairs.length).toBeGreaterThan(0);
      const ref = await readJsonlAll(join(dir, 'ref-logps.jsonl'), RefLogpsSchema);
      expect(ref.map((r) => r.pairId).sort()).toEqual(pairs.map((p) => p.id).sort());
      const log = await readJsonlAll(join(dir, 'train-log.jsonl'), TrainStepMetricsSchema);
      expect(log.length).toBeGreaterThan(2);
      expect(log.at(-1)!.loss).toBeLessThan(log[0]!.loss);
      await readJsonFile(join(dir, 'eval.json'), EvalReportSchema);

      // The reference of iteration t is M(t-1): its weights hash, and its log-probs recomputed.
      const prevDir = t === 1 ? m0 : join(out, `iter-${t - 1}`, 'model');
      const prev = await loadModel(prevDir);
      const refInfo = JSON.parse(await readFile(join(dir, 'ref.json'), 'utf8')) as { weightsSha256: string };
      expect(refInfo.weightsSha256).toBe(await hashWeights(prev.model.variables));
      const again = await computeRefLogps(prev.model, prev.tokenizer, pairs.slice(0, 3), {
        out: join(root, `check-${t}.jsonl`),
        batchSize: 3,
      });
      for (const r of ref.filter((x) => again.has(x.pairId))) expect(again.get(r.pairId)!.chosen).toBeCloseTo(r.chosen, 3);
      prev.model.dispose();
    }
    // M(t) differs from M(t-1): training moved the weights.
    const m1 = await loadModel(join(out, 'iter-1', 'model'));
    const m2 = await loadModel(join(out, 'iter-2', 'model'));
    expect(await hashWeights(m1.model.variables)).not.toBe(await hashWeights(m2.model.variables));
    m1.model.dispose();
    m2.model.dispose();
  }, 240_000);

  it('a rerun of a finished run does nothing and returns the same evals', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-recipe-'));
    const m0 = await makeTinyModel(join(root, 'm0'), 2);
    const out = join(root, 'run');
    const cfg = tinyConfig(m0, { iterations: 1 });
    const a = await runIterativeRpo(cfg, { out, progress: quiet });
    const before = await readFile(join(out, 'iter-1', 'train-log.jsonl'), 'utf8');
    const b = await runIterativeRpo(cfg, { out, progress: quiet });
    expect(b.evals.map((e) => e.greedy)).toEqual(a.evals.map((e) => e.greedy));
    expect(await readFile(join(out, 'iter-1', 'train-log.jsonl'), 'utf8')).toBe(before);
    await expect(runIterativeRpo({ ...cfg, seed: 99 }, { out, progress: quiet })).rejects.toThrow('config.seed');
  }, 240_000);
});
