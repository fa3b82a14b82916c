import { rename, rm } from 'node:fs/promises';
import {
  EvalReportSchema,
  InputError,
  iterationSettings,
  PreferencePairSchema,
  readJsonFile,
  readJsonlAll,
  RefLogpsSchema,
  SampleSchema,
  SftExampleSchema,
  writeJsonAtomic,
  writeJsonlAtomic,
  type EvalReport,
  type PreferencePair,
  type Problem,
  type RefLogps,
  type RunConfig,
  type SftExampleRecord,
  type Stage,
} from '@irpo/contracts';
import type { Task } from '@irpo/data';
import { saveLoraAdapter, storedDtype, type SafetensorsDtype } from '@irpo/model';
import { sampleDataset, type Engine, type SampleDatasetOptions, type SampleProgress } from '@irpo/sampler';
import { OnnxLlama } from '@irpo/onnx';
import {
  buildPairs,
  computeRefLogps,
  encodeSequence,
  sequenceLength,
  trainPreference,
  trainSft,
  type PackedBatch,
  type SftExample,
} from '@irpo/trainer';
import { inferenceModel } from './inference-runtime.js';
import { evaluateModel, type EvaluateOptions } from './evaluate-model.js';
import { ModelSlot } from './model-slot.js';
import { runPromptFormat } from './prompt-format.js';
import { withEngine } from './stage-engine.js';
import { DevSelector } from './dev-selection.js';
import { noisyReward } from './noisy-reward.js';
import { makeOptimizer } from './optimizer.js';
import type { Progress } from './progress.js';

/**
 * The stages of one iteration t of a recipe, in the paper's order: sample chains from M(t-1),
 * pair correct with wrong ones, score the pairs under M(t-1) (the reference), train M(t), and
 * evaluate. Each has the shape `(ctx, t, model folder, input) => output`, reads the files of the
 * stage before, skips its work when state.json marks it done, and marks itself done once its
 * files are whole on disk, so rerunning a recipe continues where it stopped.
 */

/** Where stage files go and which stages are done: a RunDir (iter-t/ folders and state.json). */
export interface StageDir {
  path(t: number, file: string): string;
  isDone(t: number, stage: Stage): boolean;
  markDone(t: number, stage: Stage): Promise<void>;
  /** The model folder engine.endpoints serve after the last engine.reload (undefined: M0). */
  readonly served?: string;
  recordServed?(modelDir: string): Promise<void>;
}

/** The stages that draw random numbers, numbered as stageSeed numbers them. */
export type SeededStage = 'sample' | 'pair' | 'train' | 'eval';
const SEED_INDEX: Record<SeededStage, number> = { sample: 1, pair: 2, train: 3, eval: 4 };

/** Names of the stages in progress lines. */
export type StageLabel = 'sampling' | 'pairs' | 'sft examples' | 'reference log-probs' | 'training' | 'eval';

/** What every stage is given besides its iteration and its input. */
export interface StageContext {
  run: StageDir;
  config: RunConfig;
  task: Task;
  /** The one model held in memory; training updates it in place (M(t) starts from M(t-1)). */
  slot: ModelSlot;
  progress: Progress;
  /** The seed of a stage of iteration t. */
  seed(t: number, stage: SeededStage): number;
  /** The progress label of a stage of iteration t, like "iter 1/3 · sampling". */
  label(t: number, stage: StageLabel): string;
  /** The dev split (task.devLimit): when non-empty, training keeps its best checkpoint on it (dev-selection.ts). */
  dev?: readonly Problem[];
}

/** Seeds of a stage, fixed by the run seed and the iteration, so a rerun redraws nothing. */
export const stageSeed = (seed: number, t: number, stage: number) => seed * 1_000_003 + t * 101 + stage;

/** A run's stage context: a fresh model slot, and stage seeds derived from the run seed (stageSeed). */
export function runStageContext(
  run: StageDir,
  config: RunConfig,
  task: Task,
  progress: Progress,
  label: StageContext['label'],
): StageContext {
  return { run, config, task, slot: new ModelSlot(), progress, seed: (t, stage) => stageSeed(config.seed, t, SEED_INDEX[stage]), label };
}

/** Sample: N chains per training problem from the model in `from` (M(t-1)), scored, into samples.jsonl. */
export async function sampleStage(ctx: StageContext, t: number, from: string, problems: Problem[]): Promise<void> {
  const { run, config, progress } = ctx;
  if (run.isDone(t, 'samples')) return;
  const it = iterationSettings(config, t);
  const r = await withEngine(ctx, t, from, 'sample', (engine) => {
    progress.start(ctx.label(t, 'sampling'), problems.length * it.n, 'samples');
    return sampleDataset(problems, ctx.task, engine, {
      n: it.n,
      temperature: it.temperature,
      topP: it.topP,
      maxNewTokens: it.maxNewTokens,
      seed: ctx.seed(t, 'sample'),
      out: run.path(t, 'samples.jsonl'),
      // the local engine decodes batchSize sequences at once; a server gets one prompt per request
      batchSize: Math.max(1, Math.floor(config.engine.batchSize / it.n)),
      reward: noisyReward(config.reward.flipProbability, ctx.seed(t, 'sample')),
      ...engineProgress(progress, engine, config.engine.requestTimeoutS, (p) => `${p.correct} correct`),
    });
  });
  progress.done(`${r.done} samples, ${((100 * r.correct) / Math.max(1, r.done)).toFixed(1)}% correct`);
  await run.markDone(t, 'samples');
}

/**
 * Progress callbacks of a stage that samples: samples/s and correct so far, requests in flight
 * for a server, and a line whenever no completion has arrived for a minute (a hung server).
 */
export function engineProgress(
  progress: Progress,
  engine: Engine,
  requestTimeoutS: number,
  extra: (p: SampleProgress) => string,
): Pick<SampleDatasetOptions, 'onProgress' | 'onStall' | 'stallWarnS'> {
  const remote = (engine.parallelism ?? 1) > 1;
  return {
    onProgress: (p) => progress.update(p.done, remote ? `${extra(p)} · ${engine.activity?.().inFlight ?? p.inFlight} in flight` : extra(p)),
    stallWarnS: Math.min(60, requestTimeoutS / 2),
    onStall: (s) =>
      progress.info(
        `no completion for ${s.seconds} s with ${s.inFlight} request(s) in flight; a request fails after ${requestTimeoutS} s (engine.requestTimeoutS)`,
      ),
  };
}

/**
 * Pair: up to K (correct, wrong) pairs per problem from samples.jsonl, into pairs.jsonl; gold
 * solutions join the winners when task.goldAsWinner is set, and pairs that would not fit the
 * context of the model in `from` are dropped. Returns the pairs; none at all is an error.
 */
export async function pairStage(ctx: StageContext, t: number, from: string, problems: Problem[]): Promise<PreferencePair[]> {
  const { run, config } = ctx;
  const file = run.path(t, 'pairs.jsonl');
  if (!run.isDone(t, 'pairs')) {
    const it = iterationSettings(config, t);
    const m = await ctx.slot.ensure(from);
    const samples = await readJsonlAll(run.path(t, 'samples.jsonl'), SampleSchema);
    const gold = config.task.goldAsWinner ? goldMap(ctx.task, problems) : undefined;
    const format = runPromptFormat(config, m.tokenizer);
    const { pairs, stats } = buildPairs(samples, {
      k: it.k,
      gold,
      dropTruncated: it.dropTruncated,
      length: (p, c, ended) => sequenceLength(encodeSequence(m.tokenizer, p, c, ended, format)),
      maxLength: m.spec.maxPositions,
      seed: ctx.seed(t, 'pair'),
    });
    await writeJsonlAtomic(file, pairs);
    ctx.progress.info(
      `${ctx.label(t, 'pairs')}: ${stats.pairs} from ${stats.promptsWithPairs}/${stats.prompts} prompts (no correct sample: ${stats.noWinner}, no wrong sample: ${stats.noLoser}, truncated samples dropped: ${stats.truncatedDropped}, too long: ${stats.droppedTooLong})`,
    );
    await run.markDone(t, 'pairs');
  }
  const pairs = await readJsonlAll(file, PreferencePairSchema);
  if (pairs.length === 0) {
    throw new InputError(
      file,
      undefined,
      undefined,
      'no preference pairs: every prompt had only correct or only wrong samples; raise iteration.n or the temperature',
    );
  }
  return pairs;
}

/**
 * SFT examples: what a supervised baseline trains on at iteration t, into sft-examples.jsonl —
 * `gold`: the gold chain of thought of every training problem that has one (SFT on gold CoTs);
 * `correct`: every distinct correct sample of samples.jsonl that ended (one cut off by
 * maxNewTokens is never a winner, as in the pair stage) (STaR). Examples that would not fit the context
 * of the model in `from` are dropped. It stands in for the pair stage and marks `pairs` done.
 * Returns the examples; none at all is an error.
 */
export async function sftExamplesStage(
  ctx: StageContext,
  t: number,
  from: string,
  input: { source: 'gold'; problems: Problem[] } | { source: 'correct' },
): Promise<SftExampleRecord[]> {
  const { run } = ctx;
  const file = run.path(t, 'sft-examples.jsonl');
  if (!run.isDone(t, 'pairs')) {
    const m = await ctx.slot.ensure(from);
    let candidates: SftExampleRecord[];
    if (input.source === 'gold') {
      candidates = input.problems.flatMap((p) => {
        const completion = ctx.task.goldCompletion(p);
        return completion === undefined ? [] : [{ v: 1 as const, problemId: p.id, prompt: ctx.task.prompt(p), completion, ended: true }];
      });
    } else {
      const seen = new Set<string>();
      candidates = [];
      for (const s of await readJsonlAll(run.path(t, 'samples.jsonl'), SampleSchema)) {
        const key = `${s.problemId}\u0000${s.completion}`;
        if (!(s.reward ?? s.correct) || s.finishReason === 'length' || seen.has(key)) continue;
        seen.add(key);
        candidates.push({ v: 1, problemId: s.problemId, prompt: s.prompt, completion: s.completion, ended: true });
      }
    }
    const format = runPromptFormat(ctx.config, m.tokenizer);
    const fits = (e: SftExampleRecord) =>
      sequenceLength(encodeSequence(m.tokenizer, e.prompt, e.completion, e.ended, format)) <= m.spec.maxPositions;
    const examples = candidates.filter(fits);
    await writeJsonlAtomic(file, examples);
    ctx.progress.info(
      `${ctx.label(t, 'sft examples')}: ${examples.length} ${input.source === 'gold' ? 'gold solutions' : 'distinct correct samples'} (too long: ${candidates.length - examples.length})`,
    );
    await run.markDone(t, 'pairs');
  }
  const examples = await readJsonlAll(file, SftExampleSchema);
  if (examples.length === 0) {
    throw new InputError(
      file,
      undefined,
      undefined,
      input.source === 'gold'
        ? 'no gold solutions: the task gives none for these problems'
        : 'no correct samples to train on; raise iteration.n or the temperature',
    );
  }
  return examples;
}

/**
 * Reference: the log-probs of every pair under the model in `from` (M(t-1)), into
 * ref-logps.jsonl (resumable), with ref.json naming that model by folder and weight hash.
 * Training then needs no second model in memory.
 */
export async function referenceStage(
  ctx: StageContext,
  t: number,
  from: string,
  pairs: readonly PreferencePair[],
): Promise<ReadonlyMap<string, RefLogps>> {
  const { run, config, progress } = ctx;
  const file = run.path(t, 'ref-logps.jsonl');
  if (run.isDone(t, 'ref-logps')) return new Map((await readJsonlAll(file, RefLogpsSchema)).map((r) => [r.pairId, r]));
  const m = await ctx.slot.ensure(from);
  const scorer = await inferenceModel(ctx);
  progress.start(ctx.label(t, 'reference log-probs'), pairs.length, 'pairs');
  const ref = await computeRefLogps(m.model, m.tokenizer, pairs, {
    ...(scorer instanceof OnnxLlama ? { scoreBatch: (b: PackedBatch) => scorer.sequenceLogps(b) } : {}),
    out: file,
    batchSize: Math.max(1, Math.floor(config.training.batchSize)),
    promptFormat: runPromptFormat(config, m.tokenizer),
    onProgress: (d) => progress.update(d),
  });
  progress.done(`${ref.size} pairs scored`);
  await writeJsonAtomic(run.path(t, 'ref.json'), { model: from, weightsSha256: await ctx.slot.weightsHash(), pairs: ref.size });
  await run.markDone(t, 'ref-logps');
  return ref;
}

/**
 * What the train stage optimises: the configured preference loss (DPO+NLL, DPO, IPO) on pairs
 * against their reference log-probs, logged to train-log.jsonl; or SFT (token-mean NLL) on
 * examples, logged to sft-log.jsonl (the SFT-on-chosen and STaR baselines).
 */
export type TrainObjective =
  | { kind: 'preference'; pairs: readonly PreferencePair[]; ref: ReadonlyMap<string, RefLogps> }
  | { kind: 'sft'; examples: readonly SftExample[] };

/**
 * Train: M(t) from the model in `from` with a fresh optimiser, per config.training and the
 * iteration's epochs and step cap, saved atomically to iter-t/model. A crash resumes from the
 * resume checkpoint in iter-t/checkpoint, removed once the model is saved. `steps` is absent
 * when the stage was already done.
 */
export async function trainStage(
  ctx: StageContext,
  t: number,
  from: string,
  objective: TrainObjective,
): Promise<{ modelDir: string; steps?: number }> {
  const { run, config, progress } = ctx;
  const modelDir = run.path(t, 'model');
  if (run.isDone(t, 'model')) return { modelDir };
  const m = await ctx.slot.ensure(from);
  ctx.slot.releaseOnnx(); // training changes the weights in place: the snapshot would be stale (and holds memory)
  const lora = config.training.lora;
  // LoRA: train an adapter on the frozen M(t-1) (the reference log-probs were scored before this,
  // on M(t-1) alone). A rerun after a crash attaches the same adapter again and the trainer
  // restores its A/B and their optimiser state from the resume checkpoint.
  if (lora) m.model.attachLora(lora, { seed: ctx.seed(t, 'train') });
  const it = iterationSettings(config, t);
  const label = ctx.label(t, 'training');
  const selector = ctx.dev?.length ? await DevSelector.start(ctx, t, m, ctx.dev) : undefined;
  const optimizer = makeOptimizer(config.training);
  let total = 0;
  const common = {
    training: config.training,
    epochs: it.epochs,
    maxSteps: it.maxSteps,
    seed: ctx.seed(t, 'train'),
    checkpointDir: run.path(t, 'checkpoint'),
    optimizer,
    promptFormat: runPromptFormat(config, m.tokenizer),
  };
  /** Restarts the progress line once the trainer knows the number of steps. */
  const stepsAre = (n: number) => {
    if (total !== n) progress.start(label, (total = n), 'steps');
  };
  progress.start(label, 0, 'steps');
  let steps: number;
  let summary: string;
  try {
    if (objective.kind === 'preference') {
      const r = await trainPreference(m.model, m.tokenizer, objective.pairs, objective.ref, {
        ...common,
        logFile: run.path(t, 'train-log.jsonl'),
        onStep: async (s, step, n) => {
          stepsAre(n);
          progress.update(
            step,
            `loss ${s.loss.toFixed(3)} · margin ${s['rewards/margins'].toFixed(3)} · logp(w) ${s['logps/chosen'].toFixed(1)}`,
          );
          await selector?.onStep(step, n);
        },
      });
      steps = r.steps;
      summary = `${r.steps} steps, last loss ${r.last?.loss.toFixed(4) ?? 'n/a'}`;
    } else {
      const r = await trainSft(m.model, m.tokenizer, objective.examples, {
        ...common,
        logFile: run.path(t, 'sft-log.jsonl'),
        onStep: async (s, step, n) => {
          stepsAre(n);
          progress.update(step, `nll ${s.nll.toFixed(3)}`);
          await selector?.onStep(step, n);
        },
      });
      steps = r.steps;
      summary = `${r.steps} steps on ${objective.examples.length} examples`;
    }
    // With a dev split, M(t) is the best checkpoint: its weights go back before anything is saved.
    if (selector) summary += `; M(${t}) = step ${(await selector.finish()).chosen} (best on dev)`;
  } catch (e) {
    // Leave the slot holding M(t-1) as loaded, not M(t-1) with a half-trained adapter.
    if (lora) m.model.detachLora();
    throw e;
  } finally {
    optimizer.dispose();
  }
  progress.done(summary);
  if (lora) {
    // The adapter in PEFT's layout (iter-t/adapter/, over the base M(t-1)), then M(t) = M(t-1)
    // with the adapter merged: an ordinary checkpoint every later stage reads.
    const adapterDir = run.path(t, 'adapter');
    const tmp = `${adapterDir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await saveLoraAdapter(tmp, m.model, { baseModelPath: from });
    await rm(adapterDir, { recursive: true, force: true });
    await rename(tmp, adapterDir);
    m.model.mergeLora();
  }
  await ctx.slot.save(modelDir, await saveDtypeOf(config, from));
  await rm(run.path(t, 'checkpoint'), { recursive: true, force: true });
  await selector?.cleanup();
  await run.markDone(t, 'train');
  await run.markDone(t, 'model');
  return { modelDir, steps };
}

const SAVE_DTYPE = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' } as const;

/**
 * The dtype M(t) is saved in: training.saveDtype, or with auto M0's, read from M(t-1)'s folder
 * `from` (which auto saved in M0's dtype; `irpo train` has no M0 but that folder).
 */
export async function saveDtypeOf(config: RunConfig, from: string): Promise<SafetensorsDtype> {
  const chosen = config.training.saveDtype;
  return chosen === 'auto' ? storedDtype(from) : SAVE_DTYPE[chosen];
}

/** Evaluate: greedy accuracy (and maj@k when configured) of the model in `modelDir` on the test problems. */
export async function evaluateStage(ctx: StageContext, t: number, modelDir: string, problems: Problem[]): Promise<EvalReport> {
  const o = evalOptions(ctx, t, modelDir);
  if (ctx.run.isDone(t, 'eval')) return readJsonFile(o.out, EvalReportSchema);
  const report = await withEngine(ctx, t, modelDir, 'eval', (engine) =>
    evaluateModel(engine, ctx.task, problems, {
      ...o,
      engineProgress: (extra) => engineProgress(ctx.progress, engine, ctx.config.engine.requestTimeoutS, extra),
    }),
  );
  await ctx.run.markDone(t, 'eval');
  return report;
}

/** How iteration t evaluates: the config's eval and engine settings, the run's files, the stage seed. */
export function evalOptions(ctx: Omit<StageContext, 'slot' | 'task'>, t: number, modelDir: string): EvaluateOptions {
  const { run, config } = ctx;
  return {
    modelName: modelDir,
    split: 'test',
    maxNewTokens: config.eval.maxNewTokens,
    majK: config.eval.majK,
    temperature: config.eval.temperature,
    seed: ctx.seed(t, 'eval'),
    greedyFile: run.path(t, 'eval-greedy.jsonl'),
    votesFile: run.path(t, 'eval-votes.jsonl'),
    out: run.path(t, 'eval.json'),
    batchSize: config.engine.batchSize,
    progress: ctx.progress,
    label: ctx.label(t, 'eval'),
  };
}

function goldMap(task: Task, problems: Problem[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of problems) {
    const g = task.goldCompletion(p);
    if (g !== undefined) m.set(p.id, g);
  }
  return m;
}
