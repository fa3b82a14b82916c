import { copyFile, mkdir, rm } from 'node:fs/promises';
import {
  EvalReportSchema,
  readJsonFile,
  readJsonlAll,
  RunConfigSchema,
  SampleSchema,
  writeFileAtomic,
  writeJsonAtomic,
  writeJsonlAtomic,
  iterationSettings,
  type EvalReport,
  type RunConfig,
} from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { taskOf } from './task-of.js';
import { compareRuns, logpDrift, writeRunReport } from '@irpo/evaluator';
import { LocalEngine } from '@irpo/sampler';
import { buildPairs, trainSft, type SftExample } from '@irpo/trainer';
import { evaluateModel } from './evaluate-model.js';
import { runIterativeRpo, stageSeed, type RecipeOptions } from './iterative-rpo.js';
import { ModelSlot } from './model-slot.js';
import { makeOptimizer } from './optimizer.js';
import { createProgress } from './progress.js';
import { RunDir } from './run-dir.js';

export type Baseline = 'dpo' | 'sft-chosen' | 'star';

/**
 * Gives a baseline run the main run's M0 evaluation and first-iteration samples, so every
 * method starts from the same model and learns from the same data (the paper's comparison).
 */
export async function seedFrom(mainDir: string, out: string): Promise<void> {
  const main = await RunDir.open(mainDir);
  const run = await RunDir.open(out);
  for (const [t, file, stage] of [
    [0, 'eval.json', 'eval'],
    [1, 'samples.jsonl', 'samples'],
  ] as const) {
    if (run.isDone(t, stage)) continue;
    if (!main.isDone(t, stage)) throw new Error(`${mainDir}: iteration ${t} ${stage} is not done; run the main recipe first`);
    await mkdir(run.iterDir(t), { recursive: true });
    await copyFile(main.path(t, file), run.path(t, file));
    await run.markDone(t, stage);
  }
}

/** DPO without the NLL term (alpha 0): the paper's ablation, one iteration from the same M0. */
export async function runDpoBaseline(config: RunConfig, mainDir: string, o: RecipeOptions): Promise<void> {
  await seedFrom(mainDir, o.out);
  const dpo = RunConfigSchema.parse({
    ...config,
    name: `${config.name}-dpo`,
    model: `${mainDir}/iter-0/model`,
    iterations: 1,
    training: { ...config.training, loss: 'dpo', alpha: 0 },
  });
  await runIterativeRpo(dpo, o);
}

/**
 * SFT baselines from the same M0 and first-iteration samples: `sft-chosen` trains on the winners
 * of the RPO pairs; `star` (STaR, Zelikman et al. 2022) on every distinct correct sample.
 */
export async function runSftBaseline(
  kind: 'sft-chosen' | 'star',
  config: RunConfig,
  mainDir: string,
  o: RecipeOptions,
): Promise<EvalReport> {
  const progress = o.progress ?? createProgress();
  await initBackend(config.backend);
  await seedFrom(mainDir, o.out);
  const run = await RunDir.open(o.out);
  const resolved = RunConfigSchema.parse({ ...config, name: `${config.name}-${kind}`, model: `${mainDir}/iter-0/model`, iterations: 1 });
  await run.writeRunJson({ config: resolved, recipe: kind, baseline: kind });
  const task = taskOf(config);
  const test = await task.load('test', { limit: config.task.testLimit ?? undefined });
  const it = iterationSettings(config, 1);
  const slot = new ModelSlot();
  try {
    if (!run.isDone(1, 'model')) {
      const m = await slot.ensure(`${mainDir}/iter-0/model`);
      const samples = await readJsonlAll(run.path(1, 'samples.jsonl'), SampleSchema);
      let examples: SftExample[];
      if (kind === 'sft-chosen') {
        const { pairs } = buildPairs(samples, { k: it.k, seed: stageSeed(config.seed, 1, 2) });
        await writeJsonlAtomic(run.path(1, 'pairs.jsonl'), pairs);
        examples = pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen }));
      } else {
        const seen = new Set<string>();
        examples = samples
          .filter((s) => s.correct && !seen.has(`${s.problemId}\u0000${s.completion}`) && seen.add(`${s.problemId}\u0000${s.completion}`))
          .map((s) => ({ prompt: s.prompt, completion: s.completion }));
      }
      await run.markDone(1, 'pairs');
      if (examples.length === 0) throw new Error(`${kind}: no correct samples to train on`);
      const optimizer = makeOptimizer(config.training);
      progress.start(`${kind} · training`, 0, 'steps');
      let total = 0;
      await trainSft(m.model, m.tokenizer, examples, {
        training: config.training,
        epochs: it.epochs,
        maxSteps: it.maxSteps,
        seed: stageSeed(config.seed, 1, 3),
        logFile: run.path(1, 'sft-log.jsonl'),
        checkpointDir: run.path(1, 'checkpoint'),
        optimizer,
        onStep: (s, step, n) => {
          if (total !== n) progress.start(`${kind} · training`, (total = n), 'steps');
          progress.update(step, `nll ${s.nll.toFixed(3)}`);
        },
      });
      optimizer.dispose();
      progress.done(`${total} steps on ${examples.length} examples`);
      await slot.save(run.path(1, 'model'));
      await rm(run.path(1, 'checkpoint'), { recursive: true, force: true });
      await run.markDone(1, 'train');
      await run.markDone(1, 'model');
    }
    let report: EvalReport;
    if (run.isDone(1, 'eval')) report = await readJsonFile(run.path(1, 'eval.json'), EvalReportSchema);
    else {
      const m = await slot.ensure(run.path(1, 'model'));
      report = await evaluateModel(new LocalEngine(m.model, m.tokenizer, { maxBatchSize: config.engine.batchSize }), task, test, {
        modelName: run.path(1, 'model'),
        split: 'test',
        maxNewTokens: config.eval.maxNewTokens,
        majK: config.eval.majK,
        temperature: config.eval.temperature,
        seed: stageSeed(config.seed, 1, 4),
        greedyFile: run.path(1, 'eval-greedy.jsonl'),
        votesFile: run.path(1, 'eval-votes.jsonl'),
        out: run.path(1, 'eval.json'),
        batchSize: config.engine.batchSize,
        progress,
        label: `${kind} · eval`,
      });
      await run.markDone(1, 'eval');
    }
    await writeRunReport(o.out);
    await run.markComplete();
    return report;
  } finally {
    slot.dispose();
  }
}

export interface CompareResult {
  dirs: Record<string, string>;
  markdown: string;
}

/** Runs iterative RPO and the baselines from the same M0 and samples, and one table of all. */
export async function runCompare(config: RunConfig, o: RecipeOptions & { baselines?: Baseline[] }): Promise<CompareResult> {
  const main = `${o.out}/dpo-nll`;
  await runIterativeRpo(config, { ...o, out: main });
  const dirs: Record<string, string> = { 'dpo-nll': main };
  for (const b of o.baselines ?? ['dpo', 'sft-chosen']) {
    const out = `${o.out}/${b}`;
    dirs[b] = out;
    if (b === 'dpo') await runDpoBaseline(config, main, { ...o, out });
    else await runSftBaseline(b, config, main, { ...o, out });
  }
  const table = await compareRuns(Object.values(dirs));
  const drift = await logpDrift(dirs);
  const markdown = `${table.markdown}\n\n${drift.markdown}`;
  await writeJsonAtomic(`${o.out}/compare.json`, { runs: table.rows, iteration1: drift.rows });
  await writeFileAtomic(`${o.out}/compare.md`, markdown + '\n');
  return { dirs, markdown };
}
