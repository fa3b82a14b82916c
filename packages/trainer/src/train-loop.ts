import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, JsonlAppender, readJsonlAll, UsageError, writeJsonAtomic, writeJsonlAtomic } from '@irpo/contracts';
import { clipByGlobalNorm, GradientAccumulator, setWeightCaching, tf } from '@irpo/core';
import type { z } from 'zod';
import type { Optimizer } from './optimizer.js';
import type { TrainableLM } from './types.js';
import { scheduleFor } from './schedule.js';
import { loadTensors, saveTensors } from './tensor-file.js';

const log = createLogger('trainer');

/** One micro-batch's loss (a scalar tensor) and its metrics, given as plain numbers. */
export interface MicroStep {
  loss: tf.Scalar;
  /** Tokens the micro-batch trained on, for tokens/s. */
  tokens: number;
  /** Numbers to average over the optimiser step and log (read after the step). */
  metrics: () => Record<string, number>;
}

export interface LoopOptions<M> {
  variables: Map<string, tf.Variable>;
  optimizer: Optimizer;
  /** Micro-batches of each optimiser step, in order. */
  steps: number[][][];
  /** Builds the loss of one micro-batch (called inside the gradient scope). */
  microStep: (items: number[]) => MicroStep;
  /** Learning rate at optimiser step `step` (0-based). */
  lr: (step: number) => number;
  maxGradNorm: number;
  /** Folder for the crash-recovery checkpoint (weights, optimiser state, step). */
  checkpointDir: string;
  checkpointEvery: number;
  /** train-log.jsonl: one record per step, made by `record`. */
  logFile: string;
  logSchema: z.ZodType<M>;
  record: (step: number, averaged: Record<string, number>, extra: { lr: number; gradNorm: number; tokensPerS: number; loss: number }) => M;
  onStep?: (record: M, step: number, total: number) => void | Promise<void>;
}

/** What a caller gives either trainer besides the data: schedule length, files, optimiser. */
export interface TrainRunOptions<M> {
  epochs: number;
  maxSteps: number | null;
  seed: number;
  logFile: string;
  checkpointDir: string;
  optimizer: Optimizer;
  onStep?: (m: M, step: number, total: number) => void | Promise<void>;
}

/** The loop settings both trainers take from a training config and their own options. */
export function commonLoopOptions<M>(
  variables: Map<string, tf.Variable>,
  t: { lr: number; schedule: 'constant' | 'cosine' | 'linear'; warmupSteps: number; maxGradNorm: number; checkpointEvery: number },
  steps: number[][][],
  o: { optimizer: Optimizer; checkpointDir: string; logFile: string; onStep?: LoopOptions<M>['onStep'] },
): Pick<
  LoopOptions<M>,
  'variables' | 'optimizer' | 'steps' | 'lr' | 'maxGradNorm' | 'checkpointDir' | 'checkpointEvery' | 'logFile' | 'onStep'
> {
  return {
    variables,
    optimizer: o.optimizer,
    steps,
    lr: scheduleFor(t, steps.length),
    maxGradNorm: t.maxGradNorm,
    checkpointDir: o.checkpointDir,
    checkpointEvery: t.checkpointEvery,
    logFile: o.logFile,
    onStep: o.onStep,
  };
}

export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
}

interface CheckpointMeta {
  dir: string;
  step: number;
  optimizerStep: number;
}

/**
 * The loop both the preference and SFT trainers run: gradient accumulation, global-norm clip,
 * learning-rate schedule, a per-step log, and a checkpoint every `checkpointEvery` steps that a
 * rerun resumes from (weights, optimiser state, step; the log is cut back to the checkpoint).
 * A non-finite loss stops the run before the update, leaving the last good checkpoint.
 */
export async function runTrainingLoop<M>(o: LoopOptions<M>): Promise<{ steps: number; last?: M }> {
  // Weights change every step: per-weight kernel caches would only hold extra model copies.
  const caching = setWeightCaching(false);
  try {
    return await trainingLoop(o);
  } finally {
    setWeightCaching(caching);
  }
}

/** Runs `train` with the model's gradient checkpointing set to `on`, then restores it. */
export async function withCheckpointing<T>(model: TrainableLM, on: boolean, train: () => Promise<T>): Promise<T> {
  if (!on) return train();
  if (model.gradientCheckpointing === undefined)
    throw new UsageError('training.gradientCheckpointing: this model cannot recompute its activations');
  const was = model.gradientCheckpointing;
  model.gradientCheckpointing = true;
  try {
    return await train();
  } finally {
    model.gradientCheckpointing = was;
  }
}

async function trainingLoop<M>(o: LoopOptions<M>): Promise<{ steps: number; last?: M }> {
  const start = await resume(o);
  const appender = await JsonlAppender.open(o.logFile);
  let last: M | undefined;
  try {
    for (let step = start; step < o.steps.length; step++) {
      const t0 = performance.now();
      const micro = o.steps[step]!;
      let lr = 0;
      let norm = 0;
      const accumulator = new GradientAccumulator();
      const sums: Record<string, number> = {};
      let lossSum = 0;
      let tokens = 0;
      try {
        for (const items of micro) {
          let metrics: (() => Record<string, number>) | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const m = o.microStep(items);
            metrics = m.metrics;
            tokens += m.tokens;
            return m.loss;
          }, [...o.variables.values()]);
          const loss = (await value.data())[0]!;
          value.dispose();
          const values = metrics ? metrics() : {};
          if (!Number.isFinite(loss)) {
            tf.dispose(grads);
            const details = Object.entries(values)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ');
            throw new NonFiniteLossError(
              `loss became ${loss} at step ${step + 1}${details ? ` (${details})` : ''}; training stopped before the update. ` +
                `The last good checkpoint is in ${o.checkpointDir}. Lower the learning rate (training.lr) or check the data.`,
            );
          }
          lossSum += loss;
          for (const [k, v] of Object.entries(values)) sums[k] = (sums[k] ?? 0) + v;
          accumulator.add(byParamName(o.variables, grads));
          tf.dispose(grads);
        }
        const mean = accumulator.mean();
        let grads = mean;
        let gradNorm = Number.NaN;
        if (o.maxGradNorm > 0) {
          const clipped = clipByGlobalNorm(mean, o.maxGradNorm);
          gradNorm = (await clipped.norm.data())[0]!;
          clipped.norm.dispose();
          tf.dispose(Object.values(mean));
          grads = clipped.grads;
        } else {
          gradNorm = globalNorm(mean);
        }
        lr = o.lr(step);
        o.optimizer.applyGradients(o.variables, grads, lr);
        tf.dispose(Object.values(grads));
        norm = gradNorm;
      } finally {
        accumulator.reset();
      }
      const seconds = (performance.now() - t0) / 1000;
      const mean: Record<string, number> = {};
      for (const [k, v] of Object.entries(sums)) mean[k] = v / micro.length;
      last = o.record(step + 1, mean, { lr, gradNorm: norm, tokensPerS: tokens / Math.max(seconds, 1e-9), loss: lossSum / micro.length });
      await appender.append(last);
      await o.onStep?.(last, step + 1, o.steps.length);
      if ((step + 1) % o.checkpointEvery === 0 && step + 1 < o.steps.length) {
        await appender.sync();
        await writeCheckpoint(o, step + 1);
      }
    }
  } finally {
    await appender.close();
  }
  return { steps: o.steps.length, last };
}

async function resume<M>(o: LoopOptions<M>): Promise<number> {
  const pointer = join(o.checkpointDir, 'checkpoint.json');
  if (!existsSync(pointer)) {
    // A fresh start: a log from an attempt that never reached a checkpoint is stale.
    if (existsSync(o.logFile)) await rm(o.logFile);
    return 0;
  }
  const meta = JSON.parse(await readFile(pointer, 'utf8')) as CheckpointMeta;
  const dir = join(o.checkpointDir, meta.dir);
  const weights = await loadTensors(join(dir, 'weights.safetensors'));
  for (const [name, variable] of o.variables) {
    const t = weights.get(name);
    if (!t) throw new Error(`${dir}: checkpoint lacks weight ${name}`);
    variable.assign(t);
  }
  tf.dispose([...weights.values()]);
  const opt = await loadTensors(join(dir, 'optimizer.safetensors'));
  o.optimizer.setState({ step: meta.optimizerStep, tensors: Object.fromEntries(opt) });
  tf.dispose([...opt.values()]);
  if (existsSync(o.logFile)) {
    const rows = (await readJsonlAll(o.logFile, o.logSchema, { tolerateTruncatedTail: true })) as Array<M & { step: number }>;
    await writeJsonlAtomic(
      o.logFile,
      rows.filter((r) => r.step <= meta.step),
    );
  }
  log.info(`resuming training at step ${meta.step + 1} of ${o.steps.length} from ${dir}`);
  return meta.step;
}

/**
 * Each checkpoint is a new folder; checkpoint.json, replaced atomically, points at the newest
 * whole one, and older folders are removed after the switch. A crash at any moment leaves a
 * pointer to a complete checkpoint.
 */
async function writeCheckpoint<M>(o: LoopOptions<M>, step: number): Promise<void> {
  const name = `step-${String(step).padStart(6, '0')}`;
  const dir = join(o.checkpointDir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const state = o.optimizer.getState();
  await saveTensors(join(dir, 'weights.safetensors'), o.variables);
  await saveTensors(join(dir, 'optimizer.safetensors'), state.tensors);
  tf.dispose(Object.values(state.tensors));
  await writeJsonAtomic(join(o.checkpointDir, 'checkpoint.json'), { dir: name, step, optimizerStep: state.step } satisfies CheckpointMeta);
  for (const entry of await readdir(o.checkpointDir)) {
    if (entry.startsWith('step-') && entry !== name) await rm(join(o.checkpointDir, entry), { recursive: true, force: true });
  }
}

/** variableGrads keys gradients by tf variable name; the optimiser wants parameter names. */
function byParamName(variables: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, v] of variables) {
    const g = grads[v.name];
    if (g) out[name] = g;
  }
  return out;
}

function globalNorm(grads: Record<string, tf.Tensor>): number {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return sq.length ? tf.sqrt(tf.addN(sq)).dataSync()[0]! : 0;
  });
}
