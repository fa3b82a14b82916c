import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { RunConfigSchema, UsageError, type EvalReport, type RunConfig } from '@irpo/contracts';
import { writeRunReport } from '@irpo/evaluator';
import { runIterativeRpo, startRun, type RecipeOptions, type RecipeResult } from './iterative-rpo.js';
import { RunDir } from './run-dir.js';
import { evaluateStage, pairStage, sampleStage, sftExamplesStage, trainStage } from './stages.js';

/**
 * The baselines of the paper's Table 1, each a recipe over the same stages as Iterative RPO and
 * each in its own run directory. All start from the main run's M0 and share its M0 evaluation
 * and, when they sample, its iteration-1 samples (seedFrom), so iteration 1 of every method
 * learns from the same data; later iterations sample from the method's own M(t-1) with the same
 * seeds. Sampling settings (n, k, temperature) are the main run's; a comparison may give each
 * method its own training settings and length (config.compare, resolved by compare.ts
 * methodConfig before a baseline is called). With a dev split, every method keeps its best
 * checkpoint on the same dev problems.
 */
export type Baseline = 'dpo' | 'sft-gold' | 'star' | 'sft-chosen';

/** M0 of a main run: the config's model, or the iter-0/model the recipe made. */
export const mainM0 = (config: RunConfig, mainDir: string) => config.model ?? `${mainDir}/iter-0/model`;

/**
 * Gives a baseline run the main run's M0 evaluation and, with `samples`, its first-iteration
 * samples, so every method starts from the same model and learns from the same data.
 */
export async function seedFrom(mainDir: string, out: string, o: { samples: boolean } = { samples: true }): Promise<void> {
  const main = await RunDir.open(mainDir);
  const run = await RunDir.open(out);
  const files = [[0, 'eval.json', 'eval'] as const, ...(o.samples ? [[1, 'samples.jsonl', 'samples'] as const] : [])];
  // M0's dev score, when the main run has one: the same model on the same dev split.
  if (existsSync(main.path(0, 'dev.json')) && !existsSync(run.path(0, 'dev.json'))) {
    await mkdir(run.iterDir(0), { recursive: true });
    await copyFile(main.path(0, 'dev.json'), run.path(0, 'dev.json'));
  }
  for (const [t, file, stage] of files) {
    if (run.isDone(t, stage)) continue;
    if (!main.isDone(t, stage)) throw new Error(`${mainDir}: iteration ${t} ${stage} is not done; run the main recipe first`);
    await mkdir(run.iterDir(t), { recursive: true });
    await copyFile(main.path(t, file), run.path(t, file));
    await run.markDone(t, stage);
  }
}

/**
 * Iterative DPO: the Iterative RPO loop with plain DPO (alpha 0, no NLL term), the paper's
 * ablation. T iterations, each sampling from its own M(t-1) and training from it.
 */
export async function runDpoBaseline(config: RunConfig, mainDir: string, o: RecipeOptions): Promise<RecipeResult> {
  await seedFrom(mainDir, o.out);
  const dpo = RunConfigSchema.parse({
    ...config,
    name: `${config.name}-dpo`,
    model: mainM0(config, mainDir),
    training: { ...config.training, loss: 'dpo', alpha: 0 },
  });
  return runIterativeRpo(dpo, { method: 'dpo', ...o });
}

/**
 * SFT on gold chains of thought (the paper's "SFT on gold CoT examples"): each iteration trains
 * M(t) from M(t-1) on the task's gold solutions of the training problems, with the SFT objective
 * (token-mean NLL of the solution) and the iteration's epochs. The data never change, so
 * iteration t has had t rounds of the same SFT: a row per iteration shows SFT on gold at the
 * training budget the other methods have spent by then. The paper reports it once; its closest
 * row here is the best one, usually the last.
 */
export async function runSftGoldBaseline(config: RunConfig, mainDir: string, o: RecipeOptions): Promise<RecipeResult> {
  await seedFrom(mainDir, o.out, { samples: false });
  const { run, ctx, train, test, m0 } = await startRun(
    baselineConfig(config, mainDir, 'sft-gold'),
    { method: 'sft-gold', ...o },
    'sft-gold',
  );
  const evals: EvalReport[] = [];
  try {
    evals.push(await evaluateStage(ctx, 0, m0, test)); // the main run's, copied
    for (let t = 1; t <= config.iterations; t++) {
      const previous = t === 1 ? m0 : run.path(t - 1, 'model');
      const examples = await sftExamplesStage(ctx, t, previous, { source: 'gold', problems: train });
      const { modelDir } = await trainStage(ctx, t, previous, { kind: 'sft', examples });
      evals.push(await evaluateStage(ctx, t, modelDir, test));
    }
  } finally {
    ctx.slot.dispose();
  }
  return finish(run, o.out, evals);
}

/**
 * STaR (Zelikman et al., 2022, Algorithm 1, without rationalization): each iteration samples
 * from STaR's M(t-1), keeps the distinct correct samples, and fine-tunes M0 (not M(t-1): STaR
 * restarts from the original model each outer loop to avoid overfitting) on this iteration's
 * correct samples with the SFT objective. As M(t-1) improves more problems are solved, so the
 * training set grows, and with it the steps (STaR also grows its steps 20% a loop; here they
 * follow the data). Iteration 1 trains on the main run's iteration-1 samples from M0.
 */
export async function runStarBaseline(config: RunConfig, mainDir: string, o: RecipeOptions): Promise<RecipeResult> {
  await seedFrom(mainDir, o.out);
  const { run, ctx, train, test, m0 } = await startRun(baselineConfig(config, mainDir, 'star'), { method: 'star', ...o }, 'star');
  const evals: EvalReport[] = [];
  try {
    evals.push(await evaluateStage(ctx, 0, m0, test));
    for (let t = 1; t <= config.iterations; t++) {
      const previous = t === 1 ? m0 : run.path(t - 1, 'model'); // samples come from M(t-1)...
      await sampleStage(ctx, t, previous, train);
      const examples = await sftExamplesStage(ctx, t, m0, { source: 'correct' });
      const { modelDir } = await trainStage(ctx, t, m0, { kind: 'sft', examples }); // ...and M(t) is trained from M0
      evals.push(await evaluateStage(ctx, t, modelDir, test));
    }
  } finally {
    ctx.slot.dispose();
  }
  return finish(run, o.out, evals);
}

/**
 * SFT on the chosen answers of the iteration-1 RPO pairs (the paper's "SFT on chosen sequences"):
 * one iteration from M0, the same pairs as Iterative RPO's iteration 1 trained with the SFT
 * objective on their winners only.
 */
export async function runSftChosenBaseline(config: RunConfig, mainDir: string, o: RecipeOptions): Promise<RecipeResult> {
  await seedFrom(mainDir, o.out);
  const resolved = { ...baselineConfig(config, mainDir, 'sft-chosen'), iterations: 1 };
  const { run, ctx, train, test, m0 } = await startRun(resolved, { method: 'sft-chosen', ...o }, 'sft-chosen');
  const evals: EvalReport[] = [];
  try {
    evals.push(await evaluateStage(ctx, 0, m0, test));
    const pairs = await pairStage(ctx, 1, m0, train);
    const examples = pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen, ended: p.chosenEnded }));
    const { modelDir } = await trainStage(ctx, 1, m0, { kind: 'sft', examples });
    evals.push(await evaluateStage(ctx, 1, modelDir, test));
  } finally {
    ctx.slot.dispose();
  }
  return finish(run, o.out, evals);
}

/** A baseline's config: the main run's, named for the method, starting from the main run's M0. */
function baselineConfig(config: RunConfig, mainDir: string, method: Baseline): RunConfig {
  if (config.training.launch !== undefined) {
    throw new UsageError(
      `the ${method} baseline trains with SFT in process, and training.launch hands over preference training only: leave ${method} out of the compared methods, or compare without training.launch`,
    );
  }
  return RunConfigSchema.parse({ ...config, name: `${config.name}-${method}`, model: mainM0(config, mainDir) });
}

async function finish(run: RunDir, out: string, evals: EvalReport[]): Promise<RecipeResult> {
  const report = await writeRunReport(out);
  await run.markComplete();
  return { out, evals, reportFile: `${out}/${report.files.find((f) => f.endsWith('report.html')) ?? 'report.md'}` };
}
