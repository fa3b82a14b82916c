import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, InputError, type EvalReport, type Problem, type RunConfig } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import type { Task } from '@irpo/data';
import { writeRunReport } from '@irpo/evaluator';
import { launchedTrainStage } from './launch/launched-train-stage.js';
import { runPromptFormatOf } from './prompt-format.js';
import { assertEndpointsCanServe } from './stage-engine.js';
import { devSplitRecord, loadRunSplits } from './dev-split.js';
import { scoreOnDev } from './dev-selection.js';
import { createProgress, type Progress } from './progress.js';
import { RunDir } from './run-dir.js';
import { evaluateStage, pairStage, referenceStage, runStageContext, sampleStage, trainStage, type StageContext } from './stages.js';
import { stopRuleFires } from './stop-rule.js';
import { taskOf } from './task-of.js';

const log = createLogger('recipe');

export interface RecipeOptions {
  /** The run directory. */
  out: string;
  progress?: Progress;
  /** Makes iter-0/model when the config names no model (the demo's SFT warm start). */
  createM0?: (run: RunDir, task: Task, train: Problem[], progress: Progress) => Promise<void>;
  /** Stop after this iteration's stages (baselines run one iteration). */
  signal?: AbortSignal;
  /** Names the method in progress lines ("dpo · iter 1/2 · training"), when several run in one command. */
  method?: string;
}

export interface RecipeResult {
  out: string;
  evals: EvalReport[];
  reportFile: string;
}

/**
 * Iterative RPO (Pang et al., 2024): for t = 1..T, sample N chains per training prompt from
 * M(t-1), pair correct with wrong ones, score the pairs under M(t-1) (the reference), train M(t)
 * from M(t-1) with DPO+NLL against those log-probs, and evaluate. Every stage reads the files of
 * the one before and marks itself done in state.json, so rerunning the same command continues
 * where it stopped.
 */
export async function runIterativeRpo(config: RunConfig, o: RecipeOptions): Promise<RecipeResult> {
  const { run, ctx, train, dev, test, m0 } = await startRun(config, o);
  const evals: EvalReport[] = [];
  try {
    evals.push(await evaluateStage(ctx, 0, m0, test));
    if (dev.length) await scoreOnDev(ctx, 0, m0, dev); // what iteration 1's dev gain is measured against
    for (let t = 1; t <= config.iterations; t++) {
      const previous = t === 1 ? m0 : run.path(t - 1, 'model'); // M(t-1): policy to sample, and reference
      await sampleStage(ctx, t, previous, train);
      const pairs = await pairStage(ctx, t, previous, train);
      // training.launch: another trainer does the reference and train stages (launch/).
      const { modelDir } = config.training.launch
        ? await launchedTrainStage(ctx, t, previous, pairs, { configFile: run.runJson })
        : await trainStage(ctx, t, previous, { kind: 'preference', pairs, ref: await referenceStage(ctx, t, previous, pairs) });
      evals.push(await evaluateStage(ctx, t, modelDir, test));
      if (t < config.iterations && (await stopRuleFires(ctx, run, t))) break;
    }
  } finally {
    ctx.slot.dispose();
  }
  const report = await writeRunReport(o.out);
  await run.markComplete();
  const reportFile = join(o.out, report.files.find((f) => f.endsWith('report.html')) ?? 'report.md');
  log.debug(`report: ${report.files.join(', ')}`);
  return { out: o.out, evals, reportFile };
}

/**
 * Opens the run directory of a recipe (run.json must match a previous start), loads the task's
 * problems, and makes M0 when the config names no model. Returns the stages' context and M0's
 * folder; the caller disposes of ctx.slot.
 */
export async function startRun(
  config: RunConfig,
  o: RecipeOptions,
  recipe = `iterative-rpo/${config.training.loss}`,
): Promise<{ run: RunDir; ctx: StageContext; train: Problem[]; dev: Problem[]; test: Problem[]; m0: string }> {
  if (Object.keys(config.compare).length) {
    // runCompare resolves each method's config and clears the block: here it would do nothing.
    throw new InputError(
      'run config',
      undefined,
      'compare',
      'per-method settings apply only to a comparison (--compare); remove them for a single run',
    );
  }
  const progress = o.progress ?? createProgress();
  assertEndpointsCanServe(config); // before any work: static endpoints must be able to serve M(t)
  const backend = await initBackend(config.backend);
  const run = await RunDir.open(o.out);
  const task = taskOf(config);
  const { train, dev, test } = await loadRunSplits(task, config);
  await run.writeRunJson({
    config,
    recipe,
    backend: backend.name,
    node: process.versions.node,
    startedAt: new Date().toISOString(),
    ...(dev.length ? { dev: devSplitRecord(config, dev) } : {}),
  });
  progress.info(
    `${o.method ? `${o.method}: ` : 'irpo: '}${task.name} · ${train.length} train${dev.length ? ` / ${dev.length} dev` : ''} / ${test.length} test problems · ${config.iterations} iterations · backend ${backend.name} · run ${o.out}`,
  );
  const m0 = config.model ?? run.path(0, 'model');
  if (!config.model && !existsSync(run.path(0, 'model/config.json'))) {
    if (!o.createM0)
      throw new InputError(m0, undefined, 'model', 'the config names no model and this recipe has no built-in one; set model: <folder>');
    await o.createM0(run, task, train, progress);
  }
  const method = o.method ? `${o.method} · ` : '';
  const format = await runPromptFormatOf(config, m0); // a chat format without a template fails here, before any work
  progress.info(`${method}prompts: ${format.kind} (${format.reason})`);
  const ctx = runStageContext(run, config, task, progress, (t, stage) =>
    stage === 'eval' ? `${method}iter ${t} · eval` : `${method}iter ${t}/${config.iterations} · ${stage}`,
  );
  ctx.dev = dev;
  return { run, ctx, train, dev, test, m0 };
}
