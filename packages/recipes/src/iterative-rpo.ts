import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createLogger,
  EvalReportSchema,
  InputError,
  iterationSettings,
  PreferencePairSchema,
  readJsonFile,
  readJsonlAll,
  SampleSchema,
  writeJsonAtomic,
  writeJsonlAtomic,
  type EvalReport,
  type Problem,
  type RunConfig,
} from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import type { Task } from '@irpo/data';
import { taskOf } from './task-of.js';
import { writeRunReport } from '@irpo/evaluator';
import { LocalEngine, sampleDataset } from '@irpo/sampler';
import { buildPairs, computeRefLogps, encodeSequence, sequenceLength, trainPreference } from '@irpo/trainer';
import { evaluateModel } from './evaluate-model.js';
import { ModelSlot } from './model-slot.js';
import { makeOptimizer } from './optimizer.js';
import { createProgress, type Progress } from './progress.js';
import { RunDir } from './run-dir.js';

const log = createLogger('recipe');

export interface RecipeOptions {
  /** The run directory. */
  out: string;
  progress?: Progress;
  /** Makes iter-0/model when the config names no model (the demo's SFT warm start). */
  createM0?: (run: RunDir, task: Task, train: Problem[], progress: Progress) => Promise<void>;
  /** Stop after this iteration's stages (baselines run one iteration). */
  signal?: AbortSignal;
}

export interface RecipeResult {
  out: string;
  evals: EvalReport[];
  reportFile: string;
}

/** Seeds of a stage, fixed by the run seed and the iteration, so a rerun redraws nothing. */
export const stageSeed = (seed: number, t: number, stage: number) => seed * 1_000_003 + t * 101 + stage;

/**
 * Iterative RPO (Pang et al., 2024): for t = 1..T, sample N chains per training prompt from
 * M(t-1), pair correct with wrong ones, train M(t) from M(t-1) with DPO+NLL against M(t-1)'s
 * precomputed log-probs, and evaluate. Every stage reads the files of the one before and marks
 * itself done in state.json, so rerunning the same command continues where it stopped.
 */
export async function runIterativeRpo(config: RunConfig, o: RecipeOptions): Promise<RecipeResult> {
  const progress = o.progress ?? createProgress();
  const backend = await initBackend(config.backend);
  const run = await RunDir.open(o.out);
  await run.writeRunJson({
    config,
    recipe: `iterative-rpo/${config.training.loss}`,
    backend: backend.name,
    node: process.versions.node,
    startedAt: new Date().toISOString(),
  });
  const task = taskOf(config);
  const train = await task.load('train', { limit: config.task.trainLimit ?? undefined });
  const test = await task.load('test', { limit: config.task.testLimit ?? undefined });
  progress.info(
    `irpo: ${task.name} · ${train.length} train / ${test.length} test problems · ${config.iterations} iterations · backend ${backend.name} · run ${o.out}`,
  );

  const m0Dir = config.model ?? run.path(0, 'model');
  if (!config.model && !existsSync(run.path(0, 'model/config.json'))) {
    if (!o.createM0)
      throw new InputError(m0Dir, undefined, 'model', 'the config names no model and this recipe has no built-in one; set model: <folder>');
    await o.createM0(run, task, train, progress);
  }
  const slot = new ModelSlot();
  const evals: EvalReport[] = [];
  try {
    evals.push(await evalStage(run, 0, m0Dir, slot, task, test, config, progress));
    for (let t = 1; t <= config.iterations; t++) {
      const prevDir = t === 1 ? m0Dir : run.path(t - 1, 'model');
      const it = iterationSettings(config, t);
      const tag = `iter ${t}/${config.iterations}`;

      if (!run.isDone(t, 'samples')) {
        const m = await slot.ensure(prevDir);
        const engine = new LocalEngine(m.model, m.tokenizer, { maxBatchSize: config.engine.batchSize });
        progress.start(`${tag} · sampling`, train.length * it.n, 'samples');
        const r = await sampleDataset(train, task, engine, {
          n: it.n,
          temperature: it.temperature,
          topP: it.topP,
          maxNewTokens: it.maxNewTokens,
          seed: stageSeed(config.seed, t, 1),
          out: run.path(t, 'samples.jsonl'),
          batchSize: Math.max(1, Math.floor(config.engine.batchSize / it.n)),
          onProgress: (p) => progress.update(p.done, `${p.correct} correct`),
        });
        progress.done(`${r.done} samples, ${((100 * r.correct) / Math.max(1, r.done)).toFixed(1)}% correct`);
        await run.markDone(t, 'samples');
      }

      if (!run.isDone(t, 'pairs')) {
        const m = await slot.ensure(prevDir);
        const samples = await readJsonlAll(run.path(t, 'samples.jsonl'), SampleSchema);
        const gold = config.task.goldAsWinner ? goldMap(task, train) : undefined;
        const { pairs, stats } = buildPairs(samples, {
          k: it.k,
          gold,
          length: (p, c) => sequenceLength(encodeSequence(m.tokenizer, p, c)),
          maxLength: m.spec.maxPositions,
          seed: stageSeed(config.seed, t, 2),
        });
        await writeJsonlAtomic(run.path(t, 'pairs.jsonl'), pairs);
        progress.info(
          `${tag} · pairs: ${stats.pairs} from ${stats.promptsWithPairs}/${stats.prompts} prompts (no correct sample: ${stats.noWinner}, no wrong sample: ${stats.noLoser}, too long: ${stats.droppedTooLong})`,
        );
        await run.markDone(t, 'pairs');
      }
      const pairs = await readJsonlAll(run.path(t, 'pairs.jsonl'), PreferencePairSchema);
      if (pairs.length === 0) {
        throw new InputError(
          run.path(t, 'pairs.jsonl'),
          undefined,
          undefined,
          'no preference pairs: every prompt had only correct or only wrong samples; raise iteration.n or the temperature',
        );
      }

      if (!run.isDone(t, 'model')) {
        const m = await slot.ensure(prevDir);
        progress.start(`${tag} · reference log-probs`, pairs.length, 'pairs');
        const ref = await computeRefLogps(m.model, m.tokenizer, pairs, {
          out: run.path(t, 'ref-logps.jsonl'),
          batchSize: Math.max(1, Math.floor(config.training.batchSize)),
          onProgress: (d) => progress.update(d),
        });
        progress.done(`${ref.size} pairs scored`);
        // Which model the reference log-probs came from: M(t-1), by folder and weight hash.
        await writeJsonAtomic(run.path(t, 'ref.json'), { model: prevDir, weightsSha256: await slot.weightsHash(), pairs: ref.size });
        await run.markDone(t, 'ref-logps');
        const optimizer = makeOptimizer(config.training);
        let total = 0;
        progress.start(`${tag} · training`, 0, 'steps');
        const result = await trainPreference(m.model, m.tokenizer, pairs, ref, {
          training: config.training,
          epochs: it.epochs,
          maxSteps: it.maxSteps,
          seed: stageSeed(config.seed, t, 3),
          logFile: run.path(t, 'train-log.jsonl'),
          checkpointDir: run.path(t, 'checkpoint'),
          optimizer,
          onStep: (s, step, n) => {
            if (total !== n) progress.start(`${tag} · training`, (total = n), 'steps');
            progress.update(
              step,
              `loss ${s.loss.toFixed(3)} · margin ${s['rewards/margins'].toFixed(3)} · logp(w) ${s['logps/chosen'].toFixed(1)}`,
            );
          },
        });
        optimizer.dispose();
        progress.done(`${result.steps} steps, last loss ${result.last?.loss.toFixed(4) ?? 'n/a'}`);
        await slot.save(run.path(t, 'model'));
        await rm(run.path(t, 'checkpoint'), { recursive: true, force: true });
        await run.markDone(t, 'train');
        await run.markDone(t, 'model');
      }
      evals.push(await evalStage(run, t, run.path(t, 'model'), slot, task, test, config, progress));
    }
  } finally {
    slot.dispose();
  }
  const report = await writeRunReport(o.out);
  await run.markComplete();
  const reportFile = join(o.out, report.files.find((f) => f.endsWith('report.html')) ?? 'report.md');
  log.debug(`report: ${report.files.join(', ')}`);
  return { out: o.out, evals, reportFile };
}

async function evalStage(
  run: RunDir,
  t: number,
  modelDir: string,
  slot: ModelSlot,
  task: Task,
  test: Problem[],
  config: RunConfig,
  progress: Progress,
): Promise<EvalReport> {
  const file = run.path(t, 'eval.json');
  if (run.isDone(t, 'eval')) return readJsonFile(file, EvalReportSchema);
  const m = await slot.ensure(modelDir);
  const engine = new LocalEngine(m.model, m.tokenizer, { maxBatchSize: config.engine.batchSize });
  const report = await evaluateModel(engine, task, test, {
    modelName: modelDir,
    split: 'test',
    maxNewTokens: config.eval.maxNewTokens,
    majK: config.eval.majK,
    temperature: config.eval.temperature,
    seed: stageSeed(config.seed, t, 4),
    greedyFile: run.path(t, 'eval-greedy.jsonl'),
    votesFile: run.path(t, 'eval-votes.jsonl'),
    out: file,
    batchSize: config.engine.batchSize,
    progress,
    label: `iter ${t} · eval`,
  });
  await run.markDone(t, 'eval');
  return report;
}

function goldMap(task: Task, problems: Problem[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of problems) {
    const g = task.goldCompletion(p);
    if (g !== undefined) m.set(p.id, g);
  }
  return m;
}
