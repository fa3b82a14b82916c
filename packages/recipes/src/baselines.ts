import { copyFile, mkdir } from 'node:fs/promises';
import {
  readJsonlAll,
  RunConfigSchema,
  SampleSchema,
  writeFileAtomic,
  writeJsonAtomic,
  type EvalReport,
  type RunConfig,
} from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { compareRuns, logpDrift, writeRunReport } from '@irpo/evaluator';
import type { SftExample } from '@irpo/trainer';
import { runIterativeRpo, type RecipeOptions } from './iterative-rpo.js';
import { createProgress } from './progress.js';
import { RunDir } from './run-dir.js';
import { evaluateStage, pairStage, runStageContext, trainStage, type StageContext } from './stages.js';
import { taskOf } from './task-of.js';

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
 * SFT baselines from the same M0 and first-iteration samples, through the same stages as the
 * recipe with an SFT objective: `sft-chosen` trains on the winners of the RPO pairs (the pair
 * stage); `star` (STaR, Zelikman et al. 2022) on every distinct correct sample.
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
  const m0 = `${mainDir}/iter-0/model`;
  const resolved = RunConfigSchema.parse({ ...config, name: `${config.name}-${kind}`, model: m0, iterations: 1 });
  await run.writeRunJson({ config: resolved, recipe: kind, baseline: kind });
  const task = taskOf(config);
  const train = await task.load('train', { limit: config.task.trainLimit ?? undefined });
  const test = await task.load('test', { limit: config.task.testLimit ?? undefined });
  const ctx = runStageContext(run, config, task, progress, (_t, stage) => `${kind} · ${stage}`);
  try {
    const examples =
      kind === 'sft-chosen'
        ? (await pairStage(ctx, 1, m0, train)).map((p) => ({ prompt: p.prompt, completion: p.chosen }))
        : await starExamples(ctx, 1);
    const { modelDir } = await trainStage(ctx, 1, m0, { kind: 'sft', examples });
    const report = await evaluateStage(ctx, 1, modelDir, test);
    await writeRunReport(o.out);
    await run.markComplete();
    return report;
  } finally {
    ctx.slot.dispose();
  }
}

/** STaR's training set: every distinct correct sample of iteration t. It stands in for the pair stage and marks it. */
async function starExamples(ctx: StageContext, t: number): Promise<SftExample[]> {
  const samples = await readJsonlAll(ctx.run.path(t, 'samples.jsonl'), SampleSchema);
  const seen = new Set<string>();
  const examples = samples
    .filter((s) => s.correct && !seen.has(`${s.problemId}\u0000${s.completion}`) && seen.add(`${s.problemId}\u0000${s.completion}`))
    .map((s) => ({ prompt: s.prompt, completion: s.completion }));
  if (!ctx.run.isDone(t, 'pairs')) await ctx.run.markDone(t, 'pairs');
  if (examples.length === 0) throw new Error('star: no correct samples to train on');
  return examples;
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
